// libjpeg / libjpeg-turbo (Debian: libjpeg-dev), found through pkg-config "libjpeg".
#include <stdio.h>
#include <jpeglib.h>

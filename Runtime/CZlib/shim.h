// zlib (Debian: zlib1g-dev, which libpng-dev already pulls in), found through pkg-config "zlib".
#include <zlib.h>

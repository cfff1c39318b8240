#!/bin/bash
# Fashion-MNIST (IDX files, as the Debian package dataset-fashion-mnist ships them gzipped) to JSONL:
# one record per image, {"label": "<class name>", "features": [784 pixel values 0..255]}.
# Usage: scripts/loki/fashion-mnist-jsonl.sh IMAGES.gz LABELS.gz > out.jsonl
# IDX: images have a 16-byte header (magic, count, rows, cols), labels an 8-byte one (magic, count).
set -euo pipefail
images=$1 labels=$2
names="T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot"
paste -d' ' <(zcat "$labels" | tail -c +9 | od -An -v -tu1 -w1) \
            <(zcat "$images" | tail -c +17 | od -An -v -tu1 -w784) |
  awk -v names="$names" 'BEGIN { split(names, n, ",") }
    { printf "{\"label\":\"%s\",\"features\":[%s", n[$1 + 1], $2
      for (i = 3; i <= NF; i++) printf ",%s", $i
      print "]}" }'

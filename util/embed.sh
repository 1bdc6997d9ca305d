#!/bin/sh
# Writes an assembler file that embeds each named file into the binary (NUL-terminated),
# with a table `embed_files` of {name, data, size} that util/embed.c looks up.
set -e
i=0
echo '	.section .rodata'
for f in "$@"; do
  echo "	.balign 16"
  echo "embed_data_$i:"
  echo "	.incbin \"$f\""
  echo "embed_end_$i:"
  echo "	.byte 0"
  echo "embed_name_$i:"
  echo "	.asciz \"$f\""
  i=$((i + 1))
done
echo '	.section .data.rel.ro,"aw"'
echo '	.balign 8'
echo '	.globl embed_files'
echo 'embed_files:'
j=0
while [ $j -lt $i ]; do
  echo "	.quad embed_name_$j, embed_data_$j, embed_end_$j - embed_data_$j"
  j=$((j + 1))
done
echo '	.quad 0, 0, 0'
echo '	.section .note.GNU-stack,"",@progbits'

#!/bin/sh
# fuzz.sh SECONDS TARGET.c... - build each libFuzzer target with clang
# (ASan+UBSan) and run it for SECONDS on a copy of its seed corpus. A
# crash, leak, timeout or sanitizer report fails that target; the
# reproducer is kept in build-fuzz/artifacts/. Ends "fuzz: N passed, N failed".
secs=${1:-20}; shift
cd "$(dirname "$0")/.." || exit 1
command -v clang >/dev/null 2>&1 || { echo "fuzz: clang not found (make deps installs it)"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
out=build-fuzz; mkdir -p $out/obj $out/artifacts
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -Isrc -pthread"
LIBS="-lsqlite3 -lyaml -lz -lcrypto -lmicrohttpd -lcurl -lm"
if [ -f /usr/include/isa-l/igzip_lib.h ]; then CFLAGS="$CFLAGS -DMM_HAVE_ISAL"; LIBS="$LIBS -lisal"; fi
if [ -f /usr/include/systemd/sd-journal.h ]; then CFLAGS="$CFLAGS -DMM_HAVE_SYSTEMD"; LIBS="$LIBS -lsystemd"; fi
pass=0; fail=0
# library objects once; all of them again when any header changed (a
# struct that changed shape must not meet objects built with the old one)
objs=""
stamp=$out/obj/.headers
if [ -f $stamp ] && [ -n "$(find src -name '*.h' -newer $stamp | head -1)" ]; then
	rm -f $out/obj/*.o
fi
touch $stamp
for src in $(find src \( -name '*.c' -o -name '*.S' \) ! -path 'src/cli/*' | sort); do
	o=$out/obj/$(echo "$src" | tr / _).o
	# assets.S embeds web/*: rebuilt every run (cheap)
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ "${src%.S}" != "$src" ]; then
		clang $CFLAGS -c "$src" -o "$o" || { echo "fuzz: cannot build $src"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
	fi
	objs="$objs $o"
done
for t in "$@"; do
	name=$(basename "$t" .c); name=${name#fuzz_}
	bin=$out/fuzz_$name
	if ! clang $CFLAGS -fsanitize=fuzzer "$t" $objs -o "$bin" $LIBS; then
		echo "FAIL fuzz_$name (build)"; fail=$((fail+1)); continue
	fi
	corpus=$(mktemp -d)
	[ -d tests/fuzz/corpus/$name ] && cp -r tests/fuzz/corpus/$name/. "$corpus"/ 2>/dev/null
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
		-artifact_prefix=$out/artifacts/${name}- "$corpus" >$out/fuzz_$name.log 2>&1; then
		runs=$(grep -Eo 'Done [0-9]+ runs' $out/fuzz_$name.log | tail -1)
		echo "ok   fuzz_$name ($runs in ${secs}s)"; pass=$((pass+1))
	else
		echo "FAIL fuzz_$name: see $out/fuzz_$name.log"; tail -30 $out/fuzz_$name.log; fail=$((fail+1))
	fi
	rm -rf "$corpus"
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]

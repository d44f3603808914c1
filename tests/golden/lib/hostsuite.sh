# hostsuite.sh - what the host-agent suites (agent, agent_auto,
# agent_server, fim, story) share: every process a suite starts is killed
# on exit, whole-suite skips when a tool is missing, and the staged
# "mining pool" and miner. Source it after lib/suite.sh with SUITE set to
# the suite's name (its summary line's first word).

PIDS=""
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT INT TERM

# host_skip_all REASON: skip the whole suite, with its summary line
host_skip_all() {
	skipped all "$1"
	echo "$SUITE: $pass passed, $fail failed, $skip skipped"
	exit 0
}

# host_need CMD...: skip the whole suite unless every command exists
host_need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || host_skip_all "needs $*"
	done
}

# host_need_detectors: skip the whole suite unless the binary has the
# host detectors
host_need_detectors() {
	"$M" config show 2>/dev/null | grep -q '^hostproc:' || host_skip_all "no host detectors in this binary"
}

# pool_listen ADDR: a listener on ADDR (a loopback address) that accepts
# and holds every connection for at most 90 s; sets PORT ("" when it did
# not start within 5 s).
pool_listen() {
	python3 - "$T/port" "$1" <<'PY' &
import os, socket, sys, time
s = socket.socket(); s.bind((sys.argv[2], 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(1.0); held = []; end = time.time() + 90
while time.time() < end:
    try:
        c, _ = s.accept(); held.append(c)
    except socket.timeout:
        pass
PY
	PIDS="$PIDS $!"
	i=0; while [ ! -s "$T/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	PORT=$(cat "$T/port" 2>/dev/null)
}

# build_miner OUT MODE: compile the staged miner, an ELF of its own that
# connects to ADDR PORT (its two arguments) and then, by MODE, waits
# (pause: the finding needs the connection, not CPU), burns half a core
# (half: 10 ms on, 10 ms off, kind to a shared test machine) or a whole
# one (full). Bounded: it exits after 90 s even if the trap never runs.
# Returns non-zero when cc fails.
build_miner() {
	mkdir -p "$T/src"
	cat >"$T/src/miner.c" <<'C'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static void half(void)
{
	volatile unsigned long x = 0;
	for (;;) {
		struct timespec t0, t1, rest = { 0, 10000000L };
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			x++;
			clock_gettime(CLOCK_MONOTONIC, &t1);
		} while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 10000000L);
		nanosleep(&rest, NULL);
	}
}
int main(int argc, char **argv)
{
	struct sockaddr_in sa = { 0 };
	volatile unsigned long x = 0;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (argc < 3)
		return 2;
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 ||
	    connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		return 1;
	alarm(90);
	if (!strcmp(MODE, "half"))
		half();
	if (!strcmp(MODE, "full"))
		for (;;)
			x++;
	for (;;)
		pause();
}
C
	cc -O0 -DMODE="\"$2\"" -o "$1" "$T/src/miner.c"
}

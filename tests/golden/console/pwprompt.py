# pwprompt.py MAMORI DB - `mamori users add` from a terminal (a pseudo-terminal):
# the password is asked twice and not echoed; two different ones are refused.
# Prints "same RC ECHOED" and "differ RC SAID_SO". Every read is bounded (20 s).
import os, pty, sys, time, select
def run(argv, answers):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b''
    deadline = time.time() + 20
    for prompt, ans in answers:
        while prompt not in out and time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                try: out += os.read(fd, 4096)
                except OSError: break
        os.write(fd, ans)
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                b = os.read(fd, 4096)
                if not b: break
                out += b
            except OSError: break
    # never wait for a child that is stuck: it fails the check instead
    for _ in range(100):
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(st), out
        time.sleep(0.1)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -9, out
m, db = sys.argv[1], sys.argv[2]
rc, out = run([m, 'users', 'add', 'carol', '--db', db], [(b'Password: ', b'tty-password-1\n'), (b'Password again: ', b'tty-password-1\n')])
print('same', rc, b'tty-password-1' in out)
rc, out = run([m, 'users', 'add', 'dave', '--db', db], [(b'Password: ', b'tty-password-1\n'), (b'Password again: ', b'tty-password-2\n')])
print('differ', rc, b'differ' in out)

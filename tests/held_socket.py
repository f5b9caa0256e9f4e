#!/usr/bin/env python3
# Summary: serves the authorizer from a listening socket held by this
#   script, as systemd's socket unit, mod_fcgid and spawn-fcgi hold one:
#   on descriptor 0 with no arguments, through LISTEN_FDS, and across a
#   restart while a client keeps sending.
# Usage: tests/held_socket.py HOST:PORT PROGRAM LOG-PREFIX
#   Prints "stdin: STATUS", "systemd: STATUS" and
#   "restart: answered A of N, refused R, broken B". The programs' stderr
#   goes to LOG-PREFIX.*.log.
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fcgi_client  # noqa: E402


def ask(address, key):
    pairs = [(b"QUERY_STRING", b"app_id=" + key.encode()), (b"REQUEST_METHOD", b"GET")]
    out, _, ended = fcgi_client.exchange(address, fcgi_client.request_bytes(pairs))
    return fcgi_client.status_of(out) if ended else "broken"


def wait_serving(log_path):
    for _ in range(100):
        try:
            if "FastCGI authorizer on" in open(log_path).read():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise SystemExit("the authorizer did not start; see " + log_path)


def start_on_stdin(listener, args, log_path):
    with open(log_path, "w") as log:
        return subprocess.Popen(args, stdin=listener.fileno(), stderr=log)


def start_systemd_style(listener, args, log_path):
    pid = os.fork()
    if pid == 0:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 2)
        os.dup2(listener.fileno(), 3)
        os.set_inheritable(3, True)
        os.environ["LISTEN_FDS"] = "1"
        os.environ["LISTEN_PID"] = str(os.getpid())
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.execv(args[0], args)
    return pid


def stop(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)


def main():
    address, program, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    host, port = address.rsplit(":", 1)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, int(port)))
    listener.listen(128)
    listener.set_inheritable(True)

    child = start_on_stdin(listener, [program], prefix + ".stdin.log")
    wait_serving(prefix + ".stdin.log")
    print("stdin:", ask(address, "held1"), flush=True)
    stop(child)

    pid = start_systemd_style(listener, [program, "--fastcgi", "--workers", "1"], prefix + ".systemd.log")
    wait_serving(prefix + ".systemd.log")
    print("systemd:", ask(address, "held2"), flush=True)
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)

    # A restart: the old authorizer stops while a client keeps sending; the
    # new one starts on the same socket. Connections made meanwhile wait in
    # the socket's queue.
    first = start_on_stdin(listener, [program, "--fastcgi", "--workers", "2"], prefix + ".restart1.log")
    wait_serving(prefix + ".restart1.log")
    results = []
    running = threading.Event()
    running.set()

    def client():
        i = 0
        while running.is_set():
            i += 1
            try:
                results.append(ask(address, "r%d" % (i % 50)))
            except ConnectionRefusedError:
                results.append("refused")
            except OSError:
                results.append("broken")

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.5)
    stop(first)
    second = start_on_stdin(listener, [program, "--fastcgi", "--workers", "2"], prefix + ".restart2.log")
    time.sleep(0.5)
    running.clear()
    thread.join()
    stop(second)
    answered = sum(1 for r in results if r not in ("refused", "broken"))
    print("restart: answered %d of %d, refused %d, broken %d" % (
        answered, len(results), results.count("refused"), results.count("broken")), flush=True)


if __name__ == "__main__":
    main()

"""Drives the interactive `lakegate shell` through a pseudo-terminal, as an analyst types.

Run by tests/shell.rs against a running `lakegate local`:

    shell_pty.py --lakegate BIN --port P --history FILE
    shell_pty.py --lakegate BIN --port P --history FILE --login USER:PASSWORD

The second form checks the password prompt of a server in users mode instead.

Exits non-zero naming the first step whose expected output did not appear in time.
"""

import argparse
import os
import pty
import re
import select
import sys
import time


class Terminal:
    def __init__(self, argv, env):
        # pty.fork makes the terminal the child's controlling terminal, so Ctrl-C typed into
        # it reaches the shell as SIGINT, as in a real terminal.
        pid, self.master = pty.fork()
        if pid == 0:
            os.execve(argv[0], argv, env)
        self.pid = pid
        self.seen = ""

    def poll(self):
        done, status = os.waitpid(self.pid, os.WNOHANG)
        if done == 0:
            return None
        return os.waitstatus_to_exitcode(status)

    def send(self, text):
        os.write(self.master, text.encode())

    def wait(self, timeout=20):
        deadline = time.monotonic() + timeout
        code = self.poll()
        while code is None and time.monotonic() < deadline:
            self.read_some(0.1)
            code = self.poll()
        if code is None:
            os.kill(self.pid, 9)
        return code

    def read_some(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            self.seen += chunk.decode(errors="replace")

    def expect(self, pattern, what, timeout=30):
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.seen)
            if match:
                self.seen = self.seen[match.end():]
                print(f"ok: {what}")
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: {pattern!r} not seen in:\n{self.seen[-2000:]}")
            self.read_some(min(left, 0.5))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lakegate", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--history", required=True)
    parser.add_argument("--login")
    args = parser.parse_args()
    env = dict(os.environ, LAKEGATE_HISTORY=args.history, TERM="xterm")
    if args.login:
        env.pop("LAKEGATE_PASSWORD", None)
        return password_prompt(args, env)
    term = Terminal([args.lakegate, "shell", "--port", args.port], env)
    prompt = r"lakegate=> "
    term.expect(prompt, "the prompt appears")
    term.send("\\dt\r")
    term.expect(r"lineitem", "\\dt lists tables")
    term.expect(prompt, "the prompt returns")
    term.send("SELECT count(*) AS n\r")
    term.expect(r"lakegate-> ", "an open statement gets the continuation prompt")
    term.send("FROM lake.tpch.region;\r")
    term.expect(r"\|\s*5\s*\|", "a query over two lines runs")
    term.send("\\x\r")
    term.expect(r"Expanded display is on", "\\x turns expanded display on")
    term.send("\\timing\r")
    term.expect(r"Timing is on", "\\timing turns timing on")
    term.send("SELECT 7 AS seven;\r")
    term.expect(r"seven \| 7", "expanded output")
    term.expect(r"Time: ", "timing is shown")
    term.send("SELECT count(*) FROM lake.tpch.lineitem a, lake.tpch.lineitem b "
              "WHERE a.l_comment < b.l_comment;\r")
    time.sleep(2)
    term.send("\x03")
    term.expect(r"query cancelled", "Ctrl-C cancels the running query")
    term.expect(prompt, "and returns to the prompt")
    term.send("SELECT 1 AS still_here;\r")
    term.expect(r"still_here", "the shell still works after a cancel")
    term.send("SELECT l_ship\t")
    term.expect(r"l_shipdate", "tab completes a column name")
    term.send("\x03")
    term.expect(prompt, "Ctrl-C at the prompt drops the line")
    ctrl_d_leaves(term)
    with open(args.history) as f:
        history = f.read()
    if "still_here" not in history:
        raise AssertionError(f"the history file lacks the statements: {history!r}")
    print("ok: statements are kept in the history file")


def ctrl_d_leaves(term):
    term.send("\x04")
    code = term.wait()
    if code != 0:
        raise AssertionError(f"Ctrl-D should end the shell with status 0, got {code}")
    print("ok: Ctrl-D leaves the shell")


def password_prompt(args, env):
    user, password = args.login.split(":", 1)
    argv = [args.lakegate, "shell", "--port", args.port, "--user", user]
    # A wrong password typed at the prompt: the shell says so and exits non-zero.
    term = Terminal(argv, env)
    term.expect(rf"Password for user {user}: ", "the shell asks for the password")
    term.send("wrong\r")
    term.expect(rf"login as {user} failed", "a wrong password is refused")
    code = term.wait()
    if code in (0, None):
        raise AssertionError(f"a refused login should exit non-zero, got {code}")
    print("ok: the refused shell exits non-zero")
    # The right one, typed without echo, lets the user in.
    term = Terminal(argv, env)
    term.expect(rf"Password for user {user}: ", "the shell asks again")
    term.send(password + "\r")
    term.expect(r"lakegate=> ", "the right password reaches the prompt")
    if password in term.seen:
        raise AssertionError("the password was echoed")
    term.send("SELECT count(*) AS n FROM lake.tpch.region;\r")
    term.expect(r"\|\s*5\s*\|", "queries run as the user")
    # Ctrl-D is read at the prompt; sent while the result is still printing, before the line
    # editor is back in raw mode, it can be lost.
    term.expect(r"lakegate=> ", "the prompt returns")
    ctrl_d_leaves(term)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)

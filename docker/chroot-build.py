#!/usr/bin/env python3
"""Runs the steps of docker/Dockerfile without a Docker engine, to check them.

Each stage is a directory tree: FROM debian:12-slim starts from a copy of a
Debian 12 root made by debootstrap (--base), FROM node:N-bookworm-slim from
that copy plus this machine's node and npm (which must be of major version N),
FROM <stage> from a copy of that stage; RUN runs its command with /bin/sh -c in a chroot of the stage (its own
/proc, a tmpfs /dev/shm, the device nodes debootstrap made), as the
stage's USER, in its WORKDIR, with its ENV and ARGs; COPY copies from the build
context (less what .dockerignore excludes) or from another stage; WORKDIR,
ENV, ARG, USER, ENTRYPOINT, CMD, HEALTHCHECK and the rest are recorded as
Docker records them. The chroot shares this machine's network and kernel, so
this checks the commands and files of each step, not Docker's isolation.

    sudo debootstrap --variant=minbase bookworm BASE http://deb.debian.org/debian
    sudo docker/chroot-build.py --base BASE --out DIR [--target api]
    sudo docker/chroot-build.py --out DIR --exec api -- cinema-api healthcheck

--exec runs a command in a built stage as the image would: its USER, WORKDIR
and ENV, with extra --env NAME=VALUE. Root only (chroot, mount). Linux only.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the official debian:12 images carry in /etc/apt/sources.list.d/.
DEBIAN_SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def die(msg):
    sys.exit("chroot-build: " + msg)


def parse_dockerfile(path):
    """Returns [(lineno, INSTRUCTION, args)], continuation lines joined."""
    out, buf, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            s = line.rstrip("\n")
            if not buf and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if buf and s.lstrip().startswith("#"):
                continue  # comment lines inside a continuation are dropped
            if not buf:
                start = no
            if s.endswith("\\"):
                buf += s[:-1] + " "
                continue
            buf += s
            word, _, rest = buf.strip().partition(" ")
            out.append((start, word.upper(), rest.strip()))
            buf = ""
    if buf:
        die("%s: unterminated continuation at line %d" % (path, start))
    return out


def expand(s, env):
    """${VAR}, ${VAR:-default} and $VAR, as Dockerfile substitution does."""
    def sub(m):
        name = m.group(1) or m.group(3)
        default = m.group(2)
        v = env.get(name)
        if default is not None and not v:
            return default
        return v or ""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)", sub, s)


def parse_kv(rest, env):
    """ENV/ARG/LABEL pairs: k=v k2="v 2"; the old 'ENV k v' form too."""
    words = shlex.split(rest, posix=True)
    if words and "=" not in words[0]:
        return [(words[0], expand(" ".join(words[1:]), env))]
    pairs = []
    for w in words:
        k, eq, v = w.partition("=")
        pairs.append((k, expand(v, env) if eq else None))
    return pairs


def json_or_shell(rest):
    rest = rest.strip()
    if rest.startswith("["):
        return json.loads(rest)
    return ["/bin/sh", "-c", rest]


class Ignore:
    """.dockerignore: patterns against paths relative to the context; a path
    is excluded when it or a parent matches the last matching pattern."""

    def __init__(self, context):
        self.rules = []
        p = os.path.join(context, ".dockerignore")
        if os.path.exists(p):
            for line in open(p, encoding="utf-8"):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                neg = line.startswith("!")
                pat = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
                self.rules.append((neg, re.compile(self._regex(pat))))

    @staticmethod
    def _regex(pat):
        r, i = "", 0
        while i < len(pat):
            c = pat[i]
            if pat.startswith("**/", i):
                r += "(?:.*/)?"
                i += 3
                continue
            if pat.startswith("**", i):
                r += ".*"
                i += 2
                continue
            r += "[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
            i += 1
        return "^" + r + "$"

    def excluded(self, rel):
        parts = rel.split("/")
        for n in range(1, len(parts) + 1):
            sub, verdict = "/".join(parts[:n]), None
            for neg, rx in self.rules:
                if rx.match(sub):
                    verdict = not neg
            if verdict:
                return True
        return False


class Stage:
    def __init__(self, name, root):
        self.name, self.root = name, root
        self.env, self.args = {}, {}
        self.workdir, self.user = "/", "0"
        self.meta = {}


def copy_tree(src, dst, rel_of, ignore):
    """Copies file or directory src to dst; directories merge, contents only."""
    if os.path.isdir(src) and not os.path.islink(src):
        os.makedirs(dst, exist_ok=True)
        for name in sorted(os.listdir(src)):
            s = os.path.join(src, name)
            if ignore and ignore.excluded(rel_of(s)):
                continue
            copy_tree(s, os.path.join(dst, name), rel_of, ignore)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) and os.path.isdir(dst) and not os.path.islink(dst):
            dst = os.path.join(dst, os.path.basename(src))
        shutil.copy2(src, dst, follow_symlinks=False)
        os.lchown(dst, 0, 0)


def in_root(stage, path):
    path = path if path.startswith("/") else os.path.join(stage.workdir, path)
    return os.path.join(stage.root, os.path.normpath(path).lstrip("/"))


class Mounts:
    def __init__(self, root):
        self.root, self.done = root, []

    def __enter__(self):
        # /dev is the stage's own (debootstrap made its nodes), never this
        # machine's: nothing in the chroot can touch the host's devices.
        for what, opts in (("proc", ["-t", "proc", "proc"]), ("dev/shm", ["-t", "tmpfs", "shm"])):
            target = os.path.join(self.root, what)
            os.makedirs(target, exist_ok=True)
            subprocess.run(["mount"] + opts + [target], check=True)
            self.done.append(target)
        shutil.copy("/etc/resolv.conf", os.path.join(self.root, "etc/resolv.conf"))
        return self

    def __exit__(self, *exc):
        for target in reversed(self.done):
            subprocess.run(["umount", "-R", "-l", target], check=False)


def remove_root(root):
    """Removes a stage's root, never while something is mounted in it (a bound
    /dev would take this machine's devices with it)."""
    real = os.path.realpath(root) + "/"
    with open("/proc/self/mounts") as f:
        for line in f:
            point = line.split()[1].replace("\\040", " ")
            if (point + "/").startswith(real):
                die("%s is still mounted; unmount it first" % point)
    shutil.rmtree(root)


def run_in(stage, argv, extra_env=None):
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": "chroot-build", "HOME": "/root"}
    env.update(stage.args)
    env.update(stage.env)
    env.update(extra_env or {})
    uid, _, gid = stage.user.partition(":")
    spec = ["--userspec=%s:%s" % (uid, gid or uid)] if uid not in ("0", "root") else []
    os.makedirs(in_root(stage, stage.workdir), exist_ok=True)
    # env -i in the chroot: nothing of this machine's environment leaks in.
    cmd = ["chroot"] + spec + [stage.root, "/usr/bin/env", "-i"] + \
        ["%s=%s" % kv for kv in env.items()] + \
        ["/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", stage.workdir] + argv
    with Mounts(stage.root):
        return subprocess.run(cmd).returncode


def add_host_node(root, major, where):
    """Emulates the official Node image on Debian 12: this machine's node and
    npm, of the same major version, in /usr/local as the image has them."""
    host_node = shutil.which("node") or die("%s: no node on this machine to emulate it" % where)
    version = subprocess.run([host_node, "--version"], capture_output=True, text=True,
                             check=True).stdout.strip()
    if not version.startswith("v%s." % major):
        die("%s: this machine has node %s, the image wants %s" % (where, version, major))
    npm_dir = os.path.join(subprocess.run(["npm", "root", "-g"], capture_output=True, text=True,
                                          check=True).stdout.strip(), "npm")
    os.path.isdir(npm_dir) or die("%s: npm not found at %s" % (where, npm_dir))
    bin_dir = os.path.join(root, "usr/local/bin")
    lib_dir = os.path.join(root, "usr/local/lib/node_modules")
    os.makedirs(bin_dir, exist_ok=True)
    os.makedirs(lib_dir, exist_ok=True)
    shutil.copy(os.path.realpath(host_node), os.path.join(bin_dir, "node"))
    shutil.copytree(npm_dir, os.path.join(lib_dir, "npm"), symlinks=True)
    for tool in ("npm", "npx"):
        os.symlink("../lib/node_modules/npm/bin/%s-cli.js" % tool, os.path.join(bin_dir, tool))


def build(args):
    context = os.path.abspath(args.context)
    dockerfile = os.path.join(context, args.file)
    ignore = Ignore(context)
    os.makedirs(args.out, exist_ok=True)
    global_args, stages = {}, {}
    stage = None
    for no, instr, rest in parse_dockerfile(dockerfile):
        where = "%s:%d %s" % (args.file, no, instr)
        if instr == "ARG":
            for k, v in parse_kv(rest, stage.env if stage else global_args):
                target = stage.args if stage else global_args
                target[k] = args.build_arg.get(k, v if v is not None else global_args.get(k, ""))
            continue
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            image, name = expand(m.group(1), global_args), m.group(2) or str(len(stages))
            if stage and args.target and stage.name == args.target:
                break
            root = os.path.join(args.out, name)
            if os.path.exists(root):
                remove_root(root)
            if image in stages:
                print("==> %s: FROM stage %s" % (where, image), flush=True)
                subprocess.run(["cp", "-a", stages[image].root, root], check=True)
                parent = stages[image]
                stage = Stage(name, root)
                stage.env, stage.workdir, stage.user = dict(parent.env), parent.workdir, parent.user
                stage.meta = dict(parent.meta)
            else:
                node = re.match(r"node:(\d+)(?:\.[\d.]+)?-bookworm(?:-slim)?$", image)
                if not node and image not in ("debian:12-slim", "debian:12", "debian:bookworm-slim",
                                              "debian:bookworm"):
                    die("%s: only Debian 12 images, node:N-bookworm and earlier stages are "
                        "emulated, not %s" % (where, image))
                print("==> %s: FROM %s (a copy of %s)" % (where, image, args.base), flush=True)
                subprocess.run(["cp", "-a", args.base, root], check=True)
                old = os.path.join(root, "etc/apt/sources.list")
                if os.path.exists(old):
                    os.remove(old)
                with open(os.path.join(root, "etc/apt/sources.list.d/debian.sources"), "w") as f:
                    f.write(DEBIAN_SOURCES)
                # A network that intercepts TLS needs its CA in the stages too;
                # update-ca-certificates picks it up when ca-certificates installs.
                for i, ca in enumerate(args.extra_ca):
                    d = os.path.join(root, "usr/local/share/ca-certificates")
                    os.makedirs(d, exist_ok=True)
                    shutil.copy(ca, os.path.join(d, "chroot-build-extra-%d.crt" % i))
                if node:
                    add_host_node(root, node.group(1), where)
                stage = Stage(name, root)
            stages[name] = stage
            continue
        if stage is None:
            die("%s before FROM" % where)
        if instr == "WORKDIR":
            wd = expand(rest, {**stage.args, **stage.env})
            stage.workdir = wd if wd.startswith("/") else os.path.join(stage.workdir, wd)
            os.makedirs(in_root(stage, stage.workdir), exist_ok=True)
        elif instr == "ENV":
            for k, v in parse_kv(rest, {**stage.args, **stage.env}):
                stage.env[k] = v or ""
        elif instr == "USER":
            stage.user = expand(rest, {**stage.args, **stage.env})
            stage.meta["User"] = stage.user
        elif instr == "COPY":
            words = shlex.split(rest)
            src_stage = None
            while words and words[0].startswith("--"):
                flag = words.pop(0)
                if flag.startswith("--from="):
                    src_stage = stages.get(flag[7:]) or die("%s: no stage %s" % (where, flag[7:]))
                else:
                    die("%s: flag %s is not emulated" % (where, flag))
            *srcs, dest = [expand(w, {**stage.args, **stage.env}) for w in words]
            print("==> %s %s" % (where, rest), flush=True)
            dest_path = in_root(stage, dest)
            into_dir = dest.endswith("/") or len(srcs) > 1
            for src in srcs:
                if src_stage:
                    s = os.path.join(src_stage.root, src.lstrip("/"))
                    rel_of, ign = None, None
                else:
                    rel = os.path.normpath(src)
                    if rel.startswith("..") or ignore.excluded(rel):
                        die("%s: %s is outside the context or excluded by .dockerignore" % (where, src))
                    s = os.path.join(context, rel)
                    rel_of, ign = (lambda p: os.path.relpath(p, context)), ignore
                if not os.path.lexists(s):
                    die("%s: %s does not exist" % (where, src))
                if os.path.isdir(s):
                    copy_tree(s, dest_path, rel_of, ign)
                else:
                    d = os.path.join(dest_path, os.path.basename(s)) if into_dir else dest_path
                    copy_tree(s, d, rel_of, ign)
        elif instr == "RUN":
            argv = json_or_shell(rest)
            print("==> %s %s" % (where, rest), flush=True)
            rc = run_in(stage, argv)
            if rc != 0:
                die("%s failed with exit status %d" % (where, rc))
        elif instr in ("ENTRYPOINT", "CMD"):
            stage.meta[instr.title()] = json_or_shell(rest)
            if instr == "ENTRYPOINT":
                stage.meta.pop("Cmd", None)  # Docker resets CMD with a new ENTRYPOINT
        elif instr == "HEALTHCHECK":
            stage.meta["Healthcheck"] = rest
        elif instr in ("EXPOSE", "STOPSIGNAL", "LABEL", "VOLUME", "SHELL"):
            stage.meta[instr.title()] = rest
        else:
            die("%s is not emulated" % where)
    for s in stages.values():
        meta = dict(s.meta, Env=s.env, WorkingDir=s.workdir, User=s.user)
        with open(os.path.join(args.out, s.name + ".json"), "w") as f:
            json.dump(meta, f, indent=2)
    print("==> built stages: %s (in %s)" % (", ".join(stages), args.out))


def execute(args):
    meta_path = os.path.join(args.out, args.exec + ".json")
    if not os.path.exists(meta_path):
        die("no built stage %s in %s" % (args.exec, args.out))
    meta = json.load(open(meta_path))
    stage = Stage(args.exec, os.path.join(args.out, args.exec))
    stage.env, stage.workdir, stage.user = meta["Env"], meta["WorkingDir"], meta["User"]
    argv = args.command or (meta.get("Entrypoint", []) + meta.get("Cmd", []))
    extra = dict(e.split("=", 1) for e in args.env)
    return run_in(stage, argv, extra)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--context", default=".", help="the build context (default: .)")
    p.add_argument("--file", default="docker/Dockerfile", help="relative to the context")
    p.add_argument("--base", help="a debootstrapped Debian 12 root, for FROM debian:12-slim")
    p.add_argument("--out", required=True, help="where the stages' roots go")
    p.add_argument("--target", help="stop after this stage")
    p.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--extra-ca", action="append", default=[], metavar="FILE",
                   help="a CA certificate (PEM) to trust in the stages, for a network that "
                   "intercepts TLS (not part of what Docker would build)")
    p.add_argument("--exec", metavar="STAGE", help="run a command in a built stage instead of building")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="with --exec")
    p.add_argument("command", nargs="*", help="with --exec (default: ENTRYPOINT and CMD)")
    args = p.parse_args()
    if os.geteuid() != 0:
        die("needs root (chroot, mount)")
    args.build_arg = dict(a.split("=", 1) for a in args.build_arg)
    if args.exec:
        sys.exit(execute(args))
    if not args.base or not os.path.isdir(args.base):
        die("--base must be a debootstrapped Debian 12 root")
    build(args)


if __name__ == "__main__":
    main()

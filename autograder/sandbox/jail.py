"""Confining a worker before it imports the student's module.

As root (Gradescope, CI), :func:`enter` runs in the process the zygote forked and:

1. joins the worker's cgroups (CPU time, freezer, kill) and pins it to its slot's CPU;
2. unshares the mount, network, IPC, UTS and PID namespaces and forks: the child is
   PID 1 of a namespace of its own (when it dies, the kernel kills everything left in
   it; nothing it started can outlive it or see another worker's processes, and SysV
   / POSIX IPC objects die with the namespace); the parent only waits and exits with
   the child's status;
3. in the child: the only writable place is one tmpfs of ``DISK_MB`` on /tmp holding the
   worker's folder (and standing in for /var/tmp and /dev/shm); every other top-level
   folder but the system ones is an empty read-only tmpfs (with the Python installation
   bound back in), the system folders are read-only, /proc is the namespace's own;
4. drops to the worker's own unprivileged uid, sets resource limits and
   ``no_new_privs``, and installs a seccomp filter (pyseccomp) refusing ptrace, mount,
   namespaces, keyrings, bpf, perf events, kexec, modules, CPU-affinity changes...

Without root only the resource limits and the audit hook apply (best effort; see the
README's "Isolation").
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import shutil
import signal
import socket
import sys

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 0x1000, 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
DISK_MB = 256

# What Python and torch need; everything else at the top level is hidden (/home, /root,
# /tmp, /work, /srv, /opt, /var, /mnt, ...: other courses' files, other submissions).
SYSTEM = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "proc", "sys", "dev", "boot"}
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare",
    "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "swapon", "swapoff", "reboot", "sched_setaffinity",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "open_by_handle_at",
    "name_to_handle_at", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "quotactl", "acct", "settimeofday", "clock_settime", "adjtimex", "syslog", "vhangup", "setdomainname",
    "sethostname")
NAMESPACE_FLAGS = (CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                   CLONE_NEWNET)

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target: str, fstype, flags: int, data: str | None = None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)
    if _libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


# ---- steps -----------------------------------------------------------------------------
def join_cgroups(procs_files: list[str]) -> list[str]:
    done = []
    for path in procs_files:
        try:
            _write(path, str(os.getpid()))
            done.append(os.path.dirname(path))
        except OSError:
            pass
    return [f"cgroup: {d}" for d in done]


def pin(cpu) -> list[str]:
    if cpu is None:
        return []
    try:
        os.sched_setaffinity(0, {int(cpu)})
        return [f"pinned to CPU {cpu}"]
    except OSError:
        return []


def split_pid_namespace() -> None:
    """Unshare the namespaces and fork: the child (PID 1 of the new PID namespace) goes on;
    this process waits for it and exits with its status."""
    if _libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    pid = os.fork()
    if pid == 0:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:            # the parent is already gone
            os._exit(1)
        return
    for fd in range(3, 1024):            # the child holds the pipes now
        try:
            os.close(fd)
        except OSError:
            pass
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def _mountpoints() -> list[str]:
    with open("/proc/self/mountinfo") as fh:
        return [line.split()[4].replace("\\040", " ") for line in fh]


def _cover(folder: str, keep: list[str], *, size: str, mode: str) -> list[int]:
    """Cover ``folder`` with a fresh tmpfs and bind the ``keep`` paths below it back in
    place, through descriptors opened before the cover.  Returns nothing to close."""
    kept = []
    for path in sorted(set(keep)):
        try:
            kept.append((path, os.open(path, os.O_RDONLY | os.O_DIRECTORY)))
        except OSError:
            continue
    try:
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode={mode}")
        for path, fd in kept:
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
    finally:
        for _, fd in kept:
            os.close(fd)
    return []


def filesystem(workdir: str, needed: list[str], grader_root: str | None) -> list[str]:
    """Steps 3 of the module docstring.  Called as root inside the new mount namespace."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    needed = sorted({os.path.realpath(p) for p in needed if p and os.path.exists(p)})
    source = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)      # the submission's copy, before /tmp is covered
    done = []
    tops = [f"/{n}" for n in sorted(os.listdir("/")) if n not in SYSTEM]
    tops = [p for p in tops if os.path.isdir(p) and not os.path.islink(p)]
    for top in tops:
        keep = [p for p in needed if p.startswith(top + "/")]
        if top == "/tmp":
            _cover(top, keep, size=f"{DISK_MB}m", mode="1777")
        else:
            _cover(top, keep, size="1m", mode="755")
        done.append(f"hidden: {top}")
    if not os.path.isdir("/tmp"):
        raise OSError(errno.ENOENT, "no /tmp to hold the worker's folder")
    # the worker's folder, at the same path, inside the sized tmpfs
    os.makedirs(workdir, exist_ok=True)
    shutil.copytree(f"/proc/self/fd/{source}", workdir, dirs_exist_ok=True, symlinks=True)
    os.close(source)
    for scratch in ("/dev/shm", "/dev/mqueue"):
        if os.path.isdir(scratch):
            os.makedirs(f"/tmp/.{scratch.strip('/').replace('/', '-')}", mode=0o1777, exist_ok=True)
            os.chmod(f"/tmp/.{scratch.strip('/').replace('/', '-')}", 0o1777)
            _mount(f"/tmp/.{scratch.strip('/').replace('/', '-')}", scratch, None, MS_BIND)
    if grader_root and os.path.isdir(grader_root) and not any(p == grader_root for p in needed):
        keep = [p for p in needed if p.startswith(grader_root.rstrip("/") + "/")]
        _cover(grader_root, keep, size="1m", mode="755")
        done.append(f"hidden: {grader_root}")
    # read-only everywhere but the scratch tmpfs (and the kernel's own file systems)
    writable = {"/tmp", "/dev/shm", "/dev/mqueue"}
    for point in _mountpoints():
        if point in writable or point == "/proc" or point.startswith("/proc/") or point.startswith("/dev/pts"):
            continue
        if point == "/dev":
            continue                     # device nodes; the worker's uid cannot create files there
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)
        except OSError:
            try:
                _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
            except OSError:
                pass
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    done.append(f"only writable place: /tmp, {DISK_MB} MiB")
    return done


def drop_privileges(uid: int, workdir: str, nproc: int) -> list[str]:
    for dirpath, dirnames, filenames in os.walk(workdir):
        os.lchown(dirpath, uid, uid)
        for name in filenames:
            os.lchown(os.path.join(dirpath, name), uid, uid)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)     # changing credentials cleared it
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return [f"unprivileged uid {uid}", f"at most {nproc} processes/threads"]


def limits(config: dict) -> list[str]:
    done = []
    mem = config.get("memory_bytes")
    if mem:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        done.append(f"address space {mem >> 20} MiB")
    cpu = config.get("cpu_seconds")
    if cpu:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    fsize = config.get("file_bytes", 64 << 20)
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    done.append("cpu-time, file-size and core limits")
    return done


def seccomp() -> list[str]:
    """no_new_privs, then a filter refusing what a grading job never needs."""
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    try:
        import pyseccomp
    except Exception:                  # not installed, or libseccomp missing on this machine
        return ["no_new_privs (pyseccomp or libseccomp missing: no system-call filter)"]
    filt = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            filt.add_rule(pyseccomp.ERRNO(errno.EPERM), name)
        except Exception:           # a syscall this architecture does not have
            continue
    for flag in NAMESPACE_FLAGS:
        filt.add_rule(pyseccomp.ERRNO(errno.EPERM), "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, flag, flag))
    try:                               # clone3's flags live in memory: make libc fall back to clone
        filt.add_rule(pyseccomp.ERRNO(errno.ENOSYS), "clone3")
    except Exception:
        pass
    try:
        filt.set_attr(pyseccomp.Attr.CTL_TSYNC, 1)
    except Exception:
        pass
    filt.load()
    return ["no_new_privs", "seccomp filter (ptrace, mount, namespaces, keyrings, bpf, perf, kexec, modules, "
                            "affinity...)"]


def audit_hook(hidden: list[str]) -> list[str]:
    """Refuse sockets, reading the hidden paths and importing the grader's packages."""
    blocked_roots = tuple(p.rstrip("/") + "/" for p in hidden)
    blocked_modules = ("autograder", "solutions", "agsandbox", "shared", "_pytest", "pytest")

    def audit(event, args):
        if event == "socket.__new__":
            raise PermissionError("network access is disabled while grading")
        if event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.path.realpath(os.fsdecode(args[0]))
            if (path + "/").startswith(blocked_roots):
                raise PermissionError(f"{path} is not readable while grading")
        if event == "import" and args and isinstance(args[0], str):
            if args[0].split(".")[0] in blocked_modules:
                raise ImportError(f"module {args[0]} is not available while grading")

    sys.addaudithook(audit)
    for name in list(sys.modules):
        if name.split(".")[0] in ("autograder", "solutions"):
            del sys.modules[name]
    return ["audit hook: sockets, hidden paths, grader modules"]


def enter(config: dict) -> list[str]:
    """Apply every restriction this process can; return what is enforced."""
    enforced: list[str] = []
    uid = config.get("uid")
    root = os.geteuid() == 0 and uid
    if root:
        enforced += join_cgroups(config.get("cgroups", []))
        enforced += pin(config.get("cpu"))
        split_pid_namespace()
        socket.sethostname("grading-sandbox")
        enforced.append("namespaces: mount, network (none), IPC, UTS, PID")
        needed = [*config.get("needed", []), *sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix,
                  os.path.dirname(os.path.realpath(sys.executable))]
        enforced += filesystem(config["workdir"], needed, config.get("grader_root"))
        enforced += drop_privileges(uid, config["workdir"], config.get("nproc", 256))
    elif config.get("cpu") is not None:
        enforced += pin(config.get("cpu"))
    enforced += limits(config)
    if root:
        enforced += seccomp()
    enforced += audit_hook(config.get("hide", []))
    return enforced

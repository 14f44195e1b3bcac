# attack (1 of 2): a correct submission that, at import, copies its own source into a SysV
# shared-memory segment (mode 666) for a later student of the same batch to read
# adds: _KEY, _SIZE, _share, _SHARED
# deserves: all but the forbidden-API points (it uses ctypes)
import ctypes

_KEY = 0x5EED1
_SIZE = 1 << 20


def _share():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    shmid = libc.shmget(_KEY, _SIZE, 0o1000 | 0o666)          # IPC_CREAT | rw for everyone
    if shmid < 0:
        return
    addr = libc.shmat(shmid, None, 0)
    if addr in (None, ctypes.c_void_p(-1).value):
        return
    data = open(__file__, "rb").read()[:_SIZE - 8]
    ctypes.memmove(addr, len(data).to_bytes(8, "little") + data, len(data) + 8)


_SHARED = _share()

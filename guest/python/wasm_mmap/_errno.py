"""The host's errno numbers, which the WIT gives as Linux's, as this
Python's: a component's CPython uses WASI's numbering (EBADF is 8 there,
9 on Linux), and code compares `e.errno` with its own `errno.EBADF`."""

import errno as _errno

# Linux's errno names by number, 1 to 40, then the rarer ones a map, a
# file or the host can give.
_LINUX = (
    "EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY "
    "EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK "
    "EPIPE EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP"
).split()
_OTHER = {61: "ENODATA", 62: "ETIME", 71: "EPROTO", 74: "EBADMSG", 75: "EOVERFLOW", 84: "EILSEQ",
          95: "EOPNOTSUPP", 110: "ETIMEDOUT", 116: "ESTALE", 122: "EDQUOT", 125: "ECANCELED"}


def local(linux):
    """This Python's number for Linux's errno `linux` (itself if unknown)."""
    name = _LINUX[linux - 1] if 1 <= linux <= len(_LINUX) else _OTHER.get(linux)
    return getattr(_errno, name, linux) if name else linux

/*
 * Test support only: Rust's std (1.78+) imports ProcessPrng from
 * bcryptprimitives.dll, which Debian bookworm's wine 8.0 lacks (the exe
 * exits silently). Placed next to wasm-mmap.exe under wine, this DLL
 * provides it over advapi32's RtlGenRandom (SystemFunction036).
 */
#include <windows.h>

typedef BOOLEAN(WINAPI *rtl_gen_random)(PVOID, ULONG);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    static rtl_gen_random gen;
    if (gen == NULL) {
        HMODULE advapi = LoadLibraryA("advapi32.dll");
        gen = (rtl_gen_random)(void *)GetProcAddress(advapi, "SystemFunction036");
        if (gen == NULL) {
            return FALSE;
        }
    }
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!gen(data, n)) {
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}

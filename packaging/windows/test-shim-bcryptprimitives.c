/* TEST-ONLY shim, never shipped: packaging/windows/test-wine.sh compiles it with mingw into
 * the system32 folder of the throw-away wine prefix it tests in.
 *
 * Rust's std (since 1.78) takes its random bytes from ProcessPrng in bcryptprimitives.dll,
 * which every supported Windows (10 and later) has. Debian 12's wine 8.0 does not ship that
 * DLL, so gsprov.exe would not start under it. This provides ProcessPrng over RtlGenRandom
 * (advapi32's SystemFunction036, which wine implements), so the tests run the real exe. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}

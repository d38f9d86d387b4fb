/*
 * A C guest of wasm-mmap (bindings from `wit-bindgen c`): maps a file it
 * opened through its preopen, writes, finds and reads through the map,
 * checks a typed error, then places a window (part of a map in its own
 * memory) and uses it through a plain pointer, and prints `ok`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"

#define CHECK(cond, what)                                  \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "check failed: %s\n", what);   \
            return false;                                  \
        }                                                  \
    } while (0)

static command_list_u8_t bytes(const char *s) {
    command_list_u8_t l = {(uint8_t *)s, strlen(s)};
    return l;
}

/* Python's defaults for mmap.mmap(...): MAP_SHARED, PROT_READ|PROT_WRITE,
 * ACCESS_DEFAULT, offset 0. */
static wasm_mmap_mmap_mmap_map_options_t python_defaults(void) {
    wasm_mmap_mmap_mmap_map_options_t opts = {
        .flags = WASM_MMAP_MMAP_MMAP_MAP_FLAGS_SHARED,
        .prot = WASM_MMAP_MMAP_MMAP_PROT_READ | WASM_MMAP_MMAP_MMAP_PROT_WRITE,
        .access = WASM_MMAP_MMAP_MMAP_ACCESS_DEFAULT,
        .offset = 0,
    };
    return opts;
}

/*
 * A window: the second granule (page 1 on Linux) of a shared map of
 * `cw.bin` (two granules of zeros) placed over a granule of this guest's
 * own heap. Not the first, so that the checks also see the window honour
 * its offset. The host reads the
 * borrowed list's pointer as the window's address: C passes `{ptr, len}`
 * as it is, so the list names exactly the bytes `aligned_alloc` returned.
 */
static bool check_window(wasi_filesystem_types_borrow_descriptor_t dir) {
    uint64_t gran = wasm_mmap_mmap_mmap_allocation_granularity();
    command_string_t path;
    command_string_set(&path, "cw.bin");
    wasi_filesystem_types_own_descriptor_t file;
    wasi_filesystem_types_error_code_t fs_err;
    /* Truncated, then sized: both pages start as zeros on every run. */
    CHECK(wasi_filesystem_types_method_descriptor_open_at(
              dir, WASI_FILESYSTEM_TYPES_PATH_FLAGS_SYMLINK_FOLLOW, &path,
              WASI_FILESYSTEM_TYPES_OPEN_FLAGS_CREATE | WASI_FILESYSTEM_TYPES_OPEN_FLAGS_TRUNCATE,
              WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ | WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_WRITE, &file, &fs_err),
          "open cw.bin");
    wasi_filesystem_types_borrow_descriptor_t fd = wasi_filesystem_types_borrow_descriptor(file);
    CHECK(wasi_filesystem_types_method_descriptor_set_size(fd, 2 * gran, &fs_err), "size cw.bin");

    wasm_mmap_mmap_mmap_map_options_t opts = python_defaults();
    wasm_mmap_mmap_mmap_own_mmap_t own;
    wasm_mmap_mmap_mmap_error_code_t err;
    CHECK(wasm_mmap_mmap_mmap_static_mmap_open(fd, 0, &opts, &own, &err), "mmap.mmap(cw, 0)");
    wasm_mmap_mmap_mmap_borrow_mmap_t m = wasm_mmap_mmap_mmap_borrow_mmap(own);

    /* Address and length must be whole granules: malloc's 8- or 16-byte
     * alignment is not enough. */
    uint8_t *mem = aligned_alloc(gran, gran);
    CHECK(mem != NULL, "aligned_alloc");
    command_list_u8_t region = {mem, gran};
    wasm_mmap_mmap_windows_own_window_t wown;
    CHECK(wasm_mmap_mmap_windows_static_window_place(m, &region, gran, &wown, &err), "window.place");
    wasm_mmap_mmap_windows_borrow_window_t w = wasm_mmap_mmap_windows_borrow_window(wown);
    CHECK(wasm_mmap_mmap_windows_method_window_address(w) == (uint32_t)(uintptr_t)mem &&
              wasm_mmap_mmap_windows_method_window_len(w) == gran &&
              wasm_mmap_mmap_windows_method_window_offset(w) == gran,
          "the window is where the list was");

    /* A store through the pointer is a store to the file's page: the call
     * path (read-at) sees it at once, with no flush. */
    memcpy(mem + 16, "through a pointer", 17);
    command_list_u8_t seen;
    CHECK(wasm_mmap_mmap_mmap_method_mmap_read_at(m, gran + 16, 17, &seen, &err) && seen.len == 17 &&
              memcmp(seen.ptr, "through a pointer", 17) == 0,
          "read-at sees a store through the window");
    command_list_u8_free(&seen);
    /* And the other way: what the map writes, a load through the pointer
     * reads (the pointer escaped into place(), so the compiler reloads). */
    command_list_u8_t from_map = bytes("from the map");
    uint64_t n;
    CHECK(wasm_mmap_mmap_mmap_method_mmap_write_at(m, gran + 64, &from_map, &n, &err) && n == 12,
          "write-at");
    CHECK(memcmp(mem + 64, "from the map", 12) == 0, "the window sees write-at");

    /* Dropping the window puts zeroed memory back before it returns, so the
     * allocator may have the granule again and nothing written there later
     * reaches the file; the file keeps what the window wrote. */
    wasm_mmap_mmap_windows_window_drop_own(wown);
    for (uint64_t i = 0; i < gran; i++)
        CHECK(mem[i] == 0, "zeros after the window is dropped");
    free(mem);
    CHECK(wasm_mmap_mmap_mmap_method_mmap_read_at(m, gran + 16, 17, &seen, &err) && seen.len == 17 &&
              memcmp(seen.ptr, "through a pointer", 17) == 0,
          "the file keeps the window's store");
    command_list_u8_free(&seen);
    wasm_mmap_mmap_mmap_mmap_drop_own(own);
    wasi_filesystem_types_descriptor_drop_own(file);
    return true;
}

bool exports_wasi_cli_run_run(void) {
    wasi_filesystem_preopens_list_tuple2_own_descriptor_string_t dirs;
    wasi_filesystem_preopens_get_directories(&dirs);
    CHECK(dirs.len > 0, "a preopened directory");
    wasi_filesystem_types_borrow_descriptor_t dir = wasi_filesystem_types_borrow_descriptor(dirs.ptr[0].f0);

    command_string_t path;
    command_string_set(&path, "c.bin");
    wasi_filesystem_types_own_descriptor_t file;
    wasi_filesystem_types_error_code_t fs_err;
    CHECK(wasi_filesystem_types_method_descriptor_open_at(
              dir, WASI_FILESYSTEM_TYPES_PATH_FLAGS_SYMLINK_FOLLOW, &path, WASI_FILESYSTEM_TYPES_OPEN_FLAGS_CREATE,
              WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ | WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_WRITE, &file, &fs_err),
          "open c.bin");
    wasi_filesystem_types_borrow_descriptor_t fd = wasi_filesystem_types_borrow_descriptor(file);
    command_list_u8_t initial = bytes("hello from c, through a real map");
    wasi_filesystem_types_filesize_t written;
    CHECK(wasi_filesystem_types_method_descriptor_write(fd, &initial, 0, &written, &fs_err), "write the file");

    wasm_mmap_mmap_mmap_map_options_t opts = python_defaults();
    wasm_mmap_mmap_mmap_own_mmap_t own;
    wasm_mmap_mmap_mmap_error_code_t err;
    CHECK(wasm_mmap_mmap_mmap_static_mmap_open(fd, 0, &opts, &own, &err), "mmap.mmap(f, 0)");
    wasm_mmap_mmap_mmap_borrow_mmap_t m = wasm_mmap_mmap_mmap_borrow_mmap(own);

    uint64_t len, n;
    CHECK(wasm_mmap_mmap_mmap_method_mmap_len(m, &len, &err) && len == 32, "len");
    command_list_u8_t hello = bytes("HELLO");
    CHECK(wasm_mmap_mmap_mmap_method_mmap_write(m, &hello, &n, &err) && n == 5, "write returns the count");
    command_list_u8_t needle = bytes("real");
    int64_t start = 0, at;
    CHECK(wasm_mmap_mmap_mmap_method_mmap_find(m, &needle, &start, NULL, &at, &err) && at == 24, "find");
    uint8_t b;
    CHECK(!wasm_mmap_mmap_mmap_method_mmap_get(m, 1000, &b, &err), "m[1000] fails");
    CHECK(err.tag == WASM_MMAP_MMAP_MMAP_ERROR_CODE_INDEX_ERROR && err.val.index_error.len == 23 &&
              memcmp(err.val.index_error.ptr, "mmap index out of range", 23) == 0,
          "IndexError: mmap index out of range");
    command_list_u8_t all;
    CHECK(wasm_mmap_mmap_mmap_method_mmap_read_at(m, 0, len, &all, &err), "read-at");
    CHECK(check_window(dir), "a window");
    printf("%.*s\nwindow ok\nok\n", (int)all.len, (const char *)all.ptr);
    wasm_mmap_mmap_mmap_mmap_drop_own(own);
    return true;
}

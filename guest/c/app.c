/*
 * A C guest of wasm-mmap (bindings from `wit-bindgen c`): maps a file it
 * opened through its preopen, writes, finds and reads through the map,
 * checks a typed error, and prints `ok`.
 */
#include <stdio.h>
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

    wasm_mmap_mmap_mmap_map_options_t opts = {
        .flags = WASM_MMAP_MMAP_MMAP_MAP_FLAGS_SHARED,
        .prot = WASM_MMAP_MMAP_MMAP_PROT_READ | WASM_MMAP_MMAP_MMAP_PROT_WRITE,
        .access = WASM_MMAP_MMAP_MMAP_ACCESS_DEFAULT,
        .offset = 0,
    };
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
    printf("%.*s\nok\n", (int)all.len, (const char *)all.ptr);
    wasm_mmap_mmap_mmap_mmap_drop_own(own);
    return true;
}

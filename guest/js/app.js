// A JavaScript guest of wasm-mmap: maps a file it holds, writes, finds and
// reads through the map, checks a typed error, and prints `ok`.
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';
import { Mmap, pagesize } from 'wasm-mmap:mmap/mmap@0.1.0';

const rw = { flags: { shared: true, private: false }, prot: { read: true, write: true }, access: 'default', offset: 0n };
const text = (bytes) => new TextDecoder().decode(bytes);
// componentize-js 0.23 aborts in its bindings ("coreabi_from_bigint64
// validation") on some calls with s64 options, such as get-slice and a
// negative seek; this example sticks to calls it lowers correctly.

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

export const run = {
  run() {
    const [[dir]] = getDirectories();
    const fd = dir.openAt({ symlinkFollow: true }, 'js.bin', { create: true }, { read: true, write: true });
    fd.write(new TextEncoder().encode('hello from javascript, via a real map'), 0n);
    const m = Mmap.open(fd, 0n, rw);
    check(m.len() === 37n, 'len');
    check(pagesize() === 4096n, 'pagesize');
    check(m.write(new TextEncoder().encode('HELLO')) === 5n, 'write returns the count');
    check(m.tell() === 5n, 'tell');
    check(m.find(new TextEncoder().encode('real'), 0n, undefined) === 29n, 'find');
    check(m.find(new TextEncoder().encode('absent'), undefined, undefined) === -1n, 'find absent');
    m.seek(0n, 'set');
    check(text(m.read(5n)) === 'HELLO', 'read');
    check(text(m.readAt(34n, 100n)) === 'map', 'read-at');
    let caught;
    try {
      m.get(1000n);
    } catch (e) {
      caught = e.payload;
    }
    check(caught && caught.tag === 'index-error' && caught.val === 'mmap index out of range', 'typed error');
    m.flush(undefined, undefined);
    console.log(text(m.readAt(0n, m.len())));
    m.close();
    console.log('ok');
  },
};

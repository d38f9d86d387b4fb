from wasm_mmap import mmap, os, time  # was: import mmap, os, time
m = mmap.mmap(os.open('xxx', os.O_RDWR), 1)
last = None
while True:
    m.resize(m.size())
    data = m[:]
    if data != last:
        print(data)
        last = data
    time.sleep(5)

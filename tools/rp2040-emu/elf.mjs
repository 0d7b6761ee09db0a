// Reads what the emulator needs from a 32-bit little-endian ARM ELF file:
// the bytes to place in flash (loadable segments, at their load addresses)
// and the addresses of named functions.

/** Loadable segments as { address, bytes }, placed at their physical (load) address. */
export function loadSegments(elf) {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  checkHeader(elf);
  const phoff = view.getUint32(0x1c, true);
  const phentsize = view.getUint16(0x2a, true);
  const phnum = view.getUint16(0x2c, true);
  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = view.getUint32(at, true);
    const offset = view.getUint32(at + 4, true);
    const paddr = view.getUint32(at + 12, true);
    const filesz = view.getUint32(at + 16, true);
    if (type === 1 && filesz > 0) {
      segments.push({ address: paddr, bytes: elf.subarray(offset, offset + filesz) });
    }
  }
  return segments;
}

/** Map from symbol name to address (Thumb bit cleared), from the ELF's symbol table. */
export function symbols(elf) {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  checkHeader(elf);
  const shoff = view.getUint32(0x20, true);
  const shentsize = view.getUint16(0x2e, true);
  const shnum = view.getUint16(0x30, true);
  const section = (i) => {
    const at = shoff + i * shentsize;
    return {
      type: view.getUint32(at + 4, true),
      offset: view.getUint32(at + 16, true),
      size: view.getUint32(at + 20, true),
      link: view.getUint32(at + 24, true),
      entsize: view.getUint32(at + 36, true),
    };
  };
  const found = new Map();
  for (let i = 0; i < shnum; i++) {
    const symtab = section(i);
    if (symtab.type !== 2 || symtab.entsize === 0) continue; // SHT_SYMTAB
    const strtab = section(symtab.link);
    for (let at = symtab.offset; at + symtab.entsize <= symtab.offset + symtab.size; at += symtab.entsize) {
      const nameOffset = strtab.offset + view.getUint32(at, true);
      let end = nameOffset;
      while (end < elf.length && elf[end] !== 0) end++;
      const name = new TextDecoder().decode(elf.subarray(nameOffset, end));
      if (name) found.set(name, view.getUint32(at + 4, true) & ~1);
    }
  }
  return found;
}

function checkHeader(elf) {
  const magic = elf[0] === 0x7f && elf[1] === 0x45 && elf[2] === 0x4c && elf[3] === 0x46;
  if (!magic || elf[4] !== 1 || elf[5] !== 1) {
    throw new Error('not a 32-bit little-endian ELF file');
  }
}

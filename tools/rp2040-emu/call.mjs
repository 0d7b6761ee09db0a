#!/usr/bin/env node
// Calls one function of a Pico firmware ELF on the emulated Cortex-M0+, once
// per input record, to check a routine's results against the host's.
//
//   node tools/rp2040-emu/call.mjs firmware.elf SYMBOL < records > results
//
// Each record on stdin is 8 bytes: the little-endian r0 and r1 the function is
// called with (two f32 bit patterns, one i64, ...). Each result on stdout is
// the 4-byte little-endian r0 it returned. Nothing else runs: no boot, no USB.
import { readFileSync } from 'node:fs';
import { Simulator } from 'rp2040js';
import { loadSegments, symbols } from './elf.mjs';

const FLASH = 0x1000_0000;
const RETURN_ADDRESS = 0x1000_0000; // boot2's slot: never a routine's code, so reaching it means "returned"
const STACK_TOP = 0x2004_0000;
const MAX_INSTRUCTIONS = 1_000_000; // per call; a float routine takes well under a thousand

if (process.argv.length !== 4) {
  process.stderr.write('usage: call.mjs firmware.elf SYMBOL < records\n');
  process.exit(2);
}
const [elfPath, symbol] = process.argv.slice(2);
const elf = readFileSync(elfPath);
const { rp2040 } = new Simulator();
rp2040.logger = { debug() {}, info() {}, warn() {}, error: (c, m) => process.stderr.write(`${c}: ${m}\n`) };
for (const { address, bytes } of loadSegments(elf)) {
  if (address >= FLASH) rp2040.flash.set(bytes, address - FLASH);
}
const entry = symbols(elf).get(symbol);
if (entry === undefined) {
  process.stderr.write(`call.mjs: no symbol ${symbol} in ${elfPath}\n`);
  process.exit(1);
}

const input = readFileSync(0);
if (input.length % 8 !== 0) {
  process.stderr.write('call.mjs: stdin must be whole 8-byte records\n');
  process.exit(2);
}
const core = rp2040.core;
const output = Buffer.alloc(input.length / 2);
for (let i = 0; i < input.length / 8; i++) {
  core.registers[0] = input.readUInt32LE(8 * i);
  core.registers[1] = input.readUInt32LE(8 * i + 4);
  core.SP = STACK_TOP;
  core.LR = RETURN_ADDRESS | 1;
  core.PC = entry;
  let n = 0;
  while (core.PC !== RETURN_ADDRESS) {
    if (++n > MAX_INSTRUCTIONS || core.PC < 0x4000) {
      process.stderr.write(`call.mjs: ${symbol} did not return (record ${i}, pc 0x${core.PC.toString(16)})\n`);
      process.exit(1);
    }
    core.executeInstruction();
  }
  output.writeUInt32LE(core.registers[0] >>> 0, 4 * i);
}
process.stdout.write(output);

#!/usr/bin/env node
// Runs a Raspberry Pi Pico firmware ELF in rp2040js, the RP2040 emulator, with
// the board's USB plugged into an emulated host: the CDC-ACM serial port's
// bytes are this process's stdin and stdout, as QEMU's UART is with
// `-serial stdio`. Messages go to stderr.
//
//   node tools/rp2040-emu/main.mjs [--describe] [--counts FILE] [--profile FILE] firmware.elf
//
// --describe   print what enumeration read (VID/PID, classes, strings) as JSON and exit
// --counts F   write, one line per pass between the firmware's marker functions
//              `inference_start` and `inference_end`: its instructions, those of
//              them between `preprocess_start` and `preprocess_end` (entered any
//              number of times), then the same two for cycles
// --profile F  rewrite after each pass how often each instruction address ran
//              inside the passes so far (`ADDR COUNT` lines): where the counts go
//
// There is no bootrom (rp2040js ships none, and none may be committed): the
// firmware starts from its own vector table at 0x1000_0100, where boot2 would
// leave it. A call into the bootrom, a panic or a hard fault ends the run with
// a message and exit code 103, 101 or 102.
import { readFileSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { Simulator } from 'rp2040js';
import { loadSegments, symbols } from './elf.mjs';
import { UsbHost } from './usb-host.mjs';

const FLASH = 0x1000_0000;
const VECTOR_TABLE = 0x1000_0100;
const BOOTROM_END = 0x4000;
const CYCLE_NANOS = 1e9 / 125e6; // clk_sys after the firmware's clock setup
/**
 * Instructions without USB traffic or an inference after which a device with no
 * input left is taken to be waiting for more, and left to sleep until it comes.
 */
const IDLE_INSTRUCTIONS = 1_000_000;
const SLICE = 50_000;
/** Enumeration takes a few million instructions; far more means the firmware is stuck. */
const ENUMERATION_LIMIT = 500_000_000;

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 1) && true : false;
};
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : null;
};
const describeOnly = flag('--describe');
const countsPath = option('--counts');
const profilePath = option('--profile');
/** Per instruction address, how often it ran inside a pass (--profile only). */
const profile = profilePath ? new Map() : null;
if (args.length !== 1) {
  process.stderr.write('usage: main.mjs [--describe] [--counts FILE] [--profile FILE] firmware.elf\n');
  process.exit(2);
}

const log = (message) => process.stderr.write(`rp2040-emu: ${message}\n`);
const trace = process.env.RP2040_EMU_TRACE ? log : () => {};
const fail = (message, code) => {
  log(message);
  process.exit(code);
};

const elf = readFileSync(args[0]);
// The Simulator only supplies the RP2040 on a simulated clock; `run` below drives it.
const { rp2040 } = new Simulator();
// rp2040js logs to stdout, which is the serial link here: keep its warnings, on stderr.
const quiet = () => {};
const warn = (component, message) => log(`${component}: ${message}`);
rp2040.logger = { debug: quiet, info: quiet, warn: process.env.RP2040_EMU_TRACE ? warn : quiet, error: warn };
for (const { address, bytes } of loadSegments(elf)) {
  if (address < FLASH || address + bytes.length > FLASH + rp2040.flash.length) {
    fail(`segment at 0x${address.toString(16)} is outside the Pico's flash; is this a Pico firmware?`, 2);
  }
  rp2040.flash.set(bytes, address - FLASH);
}
const symbolTable = symbols(elf);
const find = (predicate) => [...symbolTable].find(([name]) => predicate(name))?.[1] ?? -1;
const markStart = symbolTable.get('inference_start') ?? -1;
const markEnd = symbolTable.get('inference_end') ?? -1;
const pieceStart = symbolTable.get('preprocess_start') ?? -1;
const pieceEnd = symbolTable.get('preprocess_end') ?? -1;
const panicAt = find((name) => name.endsWith('rust_begin_unwind'));
const hardFaultAt = symbolTable.get('HardFault') ?? -1;

// What boot2 leaves behind: the vector table's stack pointer and reset vector.
const core = rp2040.core;
core.VTOR = VECTOR_TABLE;
core.SP = rp2040.readUint32(VECTOR_TABLE);
core.PC = rp2040.readUint32(VECTOR_TABLE + 4) & ~1;

const counts = countsPath ? openSync(countsPath, 'w') : null;
const usb = new UsbHost(rp2040.usbCtrl, {
  log,
  trace,
  onSerialData: (data) => process.stdout.write(data),
  onEnumerated: (description) => {
    if (describeOnly) {
      process.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
      process.exit(0);
    }
    log(`enumerated ${description.vendor_id.toString(16)}:${description.product_id.toString(16)}`);
  },
});

if (!describeOnly) {
  process.stdin.on('data', (chunk) => {
    usb.sendSerial(new Uint8Array(chunk));
    wake();
  });
  process.stdin.on('end', () => {
    if (counts !== null) closeSync(counts);
    process.exit(0);
  });
}
process.stdout.on('error', () => process.exit(0)); // the reader went away

let sleeping = false;
let lastEvents = -1;
let quietSince = 0;
let executed = 0;
let measuring = false;
let startInstructions = 0;
let startCycles = 0;
let cycles = 0;
let pieceStartedAt = 0;
let pieceCyclesFrom = 0;
let pieces = 0;
let pieceCycles = 0;

function wake() {
  if (sleeping) {
    sleeping = false;
    quietSince = executed;
    setImmediate(run);
  }
}

/** Runs a slice of instructions, then yields to the event loop for stdin. */
function run() {
  const { clock } = rp2040;
  for (let i = 0; i < SLICE; i++) {
    if (core.waiting) {
      clock.tick(clock.nanosToNextAlarm);
      continue;
    }
    const pc = core.PC;
    if (pc === markStart) {
      measuring = true;
      startInstructions = executed;
      startCycles = cycles;
      pieces = 0;
      pieceCycles = 0;
    } else if (pc === markEnd && measuring) {
      measuring = false;
      quietSince = executed;
      if (counts !== null) {
        writeSync(counts, `${executed - startInstructions} ${pieces} ${cycles - startCycles} ${pieceCycles}\n`);
      }
      if (profile !== null) {
        const lines = [...profile].map(([address, count]) => `0x${address.toString(16)} ${count}\n`);
        writeFileSync(profilePath, lines.join(''));
      }
    } else if (pc === pieceStart) {
      pieceStartedAt = executed;
      pieceCyclesFrom = cycles;
    } else if (pc === pieceEnd) {
      pieces += executed - pieceStartedAt;
      pieceCycles += cycles - pieceCyclesFrom;
    } else if (pc < BOOTROM_END) {
      fail(`the firmware called the bootrom at 0x${pc.toString(16)} (from 0x${(core.LR & ~1).toString(16)}); ` +
        'the emulator has none, and a Pico firmware must not depend on it (see the README)', 103);
    } else if (pc === panicAt) {
      fail('firmware panicked', 101);
    } else if (pc === hardFaultAt) {
      fail(`firmware hard fault (lr 0x${core.LR.toString(16)})`, 102);
    }
    if (measuring && profile !== null) {
      profile.set(pc, (profile.get(pc) ?? 0) + 1);
    }
    const spent = core.executeInstruction();
    executed++;
    cycles += spent;
    clock.tick(spent * CYCLE_NANOS);
  }
  if (!usb.ready && executed > ENUMERATION_LIMIT) {
    fail(`the device did not finish USB enumeration within ${ENUMERATION_LIMIT} instructions`, 104);
  }
  if (usb.events !== lastEvents || measuring) {
    lastEvents = usb.events;
    quietSince = executed;
  }
  // Waiting for input with nothing in flight (no inference running, nothing to
  // deliver, no USB traffic for a while): sleep until stdin brings some.
  if (usb.ready && !measuring && !usb.hasOutgoing && executed - quietSince > IDLE_INSTRUCTIONS) {
    sleeping = true;
    trace(`idle at pc 0x${core.PC.toString(16)} after ${executed} instructions; sleeping until input`);
    return;
  }
  setImmediate(run);
}

run();

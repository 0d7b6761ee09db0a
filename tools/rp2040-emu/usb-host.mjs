// The host side of the emulated USB cable, written the way an operating
// system enumerates a CDC-ACM device: every control transfer in EP0-sized
// packets with its status stage, then bulk IN/OUT for the serial data.
//
// rp2040js's own USBCDC helper expects a whole configuration descriptor in one
// packet; usb-device answers in 8-byte packets, so this drives the transfers itself.

const EP0_PACKET = 8; // usb-device's control endpoint size (bMaxPacketSize0)
const BULK_PACKET = 64;
/** Time from the status stage's OUT packet to the next SETUP: rp2040js delivers OUT data 10 µs late. */
const STATUS_STAGE_NANOS = 100_000;

const GET_DESCRIPTOR = 6;
const SET_ADDRESS = 5;
const SET_CONFIGURATION = 9;
const CDC_SET_LINE_CODING = 0x20;
const CDC_SET_CONTROL_LINE_STATE = 0x22;
const DEVICE = 1;
const CONFIGURATION = 2;
const STRING = 3;
const INTERFACE = 4;
const ENDPOINT = 5;
const LANGUAGE_EN_US = 0x0409;

function setup(bmRequestType, bRequest, wValue, wIndex, wLength) {
  return new Uint8Array([
    bmRequestType, bRequest, wValue & 0xff, wValue >> 8, wIndex & 0xff, wIndex >> 8, wLength & 0xff, wLength >> 8,
  ]);
}

/** What enumeration read, in the terms `lsusb -v` uses. */
export function describe(device, configuration, strings) {
  const u16 = (b, i) => b[i] | (b[i + 1] << 8);
  const interfaces = [];
  for (let i = 0; i + 2 <= configuration.length && configuration[i] >= 2; i += configuration[i]) {
    const d = configuration.subarray(i, i + configuration[i]);
    if (d[1] === INTERFACE) {
      interfaces.push({ number: d[2], class: d[5], subclass: d[6], protocol: d[7], endpoints: [] });
    } else if (d[1] === ENDPOINT && interfaces.length > 0) {
      const kinds = ['control', 'isochronous', 'bulk', 'interrupt'];
      interfaces[interfaces.length - 1].endpoints.push({
        address: d[2],
        direction: d[2] & 0x80 ? 'in' : 'out',
        type: kinds[d[3] & 3],
        max_packet: u16(d, 4),
      });
    }
  }
  return {
    usb_version: u16(device, 2),
    device_class: device[4],
    max_packet_ep0: device[7],
    vendor_id: u16(device, 8),
    product_id: u16(device, 10),
    manufacturer: strings[device[14]] ?? null,
    product: strings[device[15]] ?? null,
    serial_number: strings[device[16]] ?? null,
    configurations: device[17],
    interfaces,
  };
}

export class UsbHost {
  /**
   * @param usb rp2040js's RPUSBController (device mode)
   * @param onSerialData called with each bulk IN packet once enumeration is done
   * @param onEnumerated called with `describe(...)` of the device
   */
  constructor(usb, { onSerialData, onEnumerated, log, trace = () => {} }) {
    this.usb = usb;
    this.onSerialData = onSerialData;
    this.onEnumerated = onEnumerated;
    this.log = log;
    this.trace = trace;
    this.armed = new Map(); // OUT endpoint -> the device has a buffer ready
    this.outQueue = new Map(); // OUT endpoint -> packets waiting for a buffer
    this.control = null; // the control transfer in progress
    this.pending = []; // control transfers still to run
    this.afterStatus = () => {};
    this.statusAlarm = usb.rp2040.clock.createAlarm(() => this.afterStatus());
    this.bulkIn = -1;
    this.bulkOut = -1;
    this.ready = false;
    this.serialBacklog = [];
    /** Counts USB events, so the runner can tell an idle device from a busy one. */
    this.events = 0;

    usb.onUSBEnabled = () => usb.resetDevice();
    usb.onResetReceived = () => this.enumerate();
    usb.onEndpointRead = (endpoint, size) => {
      this.trace(`OUT ${endpoint} armed (${size} bytes)`);
      this.events++;
      this.armed.set(endpoint, true);
      this.deliver(endpoint);
    };
    usb.onEndpointWrite = (endpoint, data) => {
      this.trace(`IN ${endpoint}: ${Buffer.from(data).toString('hex')}`);
      this.events++;
      if (endpoint === 0) this.controlIn(data);
      else if (endpoint === this.bulkIn) this.onSerialData(data);
      else this.log(`data on unexpected IN endpoint ${endpoint}`);
    };
  }

  /** Queues serial bytes for the device's bulk OUT endpoint. */
  sendSerial(bytes) {
    this.events++;
    if (!this.ready) {
      this.serialBacklog.push(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += BULK_PACKET) {
      this.queueOut(this.bulkOut, bytes.subarray(i, i + BULK_PACKET));
    }
  }

  /** True when serial data waits for the device to take it. */
  get hasOutgoing() {
    return this.serialBacklog.length > 0 || (this.outQueue.get(this.bulkOut)?.length ?? 0) > 0;
  }

  queueOut(endpoint, packet) {
    if (!this.outQueue.has(endpoint)) this.outQueue.set(endpoint, []);
    this.outQueue.get(endpoint).push(packet);
    this.deliver(endpoint);
  }

  deliver(endpoint) {
    const queue = this.outQueue.get(endpoint);
    if (this.armed.get(endpoint) && queue && queue.length > 0) {
      this.armed.set(endpoint, false);
      this.trace(`OUT ${endpoint}: ${Buffer.from(queue[0]).toString('hex')}`);
      this.usb.endpointReadDone(endpoint, queue.shift());
    }
  }

  /** Runs one control transfer; `done(data)` gets the IN data stage's bytes. */
  transfer(packet, { dataOut = null, done = () => {} } = {}) {
    this.pending.push({ packet, dataOut, done });
    if (!this.control) this.next();
  }

  next() {
    this.control = this.pending.shift() ?? null;
    if (!this.control) return;
    const c = this.control;
    c.in = c.packet[0] & 0x80;
    c.length = c.packet[6] | (c.packet[7] << 8);
    c.received = [];
    this.trace(`SETUP ${Buffer.from(c.packet).toString('hex')}`);
    this.usb.sendSetupPacket(c.packet);
    if (!c.in && c.dataOut) {
      for (let i = 0; i < c.dataOut.length; i += EP0_PACKET) {
        this.queueOut(0, c.dataOut.subarray(i, i + EP0_PACKET));
      }
    }
  }

  controlIn(data) {
    const c = this.control;
    if (!c) {
      this.log(`unexpected EP0 IN packet of ${data.length} bytes`);
      return;
    }
    if (!c.in) {
      // The status stage of a control OUT transfer: a zero-length IN packet.
      this.finish(new Uint8Array(0));
      return;
    }
    c.received.push(...data);
    if (data.length < EP0_PACKET || c.received.length >= c.length) {
      // Data stage over: the status stage is a zero-length OUT packet. rp2040js
      // hands it over after a delay, and a SETUP sent before the device has
      // taken it would cut the next transfer short: wait, as the bus would.
      this.queueOut(0, new Uint8Array(0));
      this.afterStatus = () => this.finish(new Uint8Array(c.received));
      this.statusAlarm.schedule(STATUS_STAGE_NANOS);
    }
  }

  finish(data) {
    const c = this.control;
    this.control = null;
    c.done(data); // may start the next transfer itself
    if (!this.control) this.next();
  }

  /** Reads a descriptor as an OS does: `length` bytes asked for, whatever comes back. */
  getDescriptor(type, index, length, done, language = 0) {
    this.transfer(setup(0x80, GET_DESCRIPTOR, (type << 8) | index, language, length), { done });
  }

  enumerate() {
    this.log('bus reset; enumerating');
    const strings = {};
    let device;
    // First 64 bytes of the device descriptor at address 0, then the address.
    this.getDescriptor(DEVICE, 0, 64, () => {});
    this.transfer(setup(0x00, SET_ADDRESS, 1, 0, 0));
    this.getDescriptor(DEVICE, 0, 18, (d) => {
      device = d;
      this.getDescriptor(CONFIGURATION, 0, 9, (head) => {
        const total = head[2] | (head[3] << 8);
        this.getDescriptor(CONFIGURATION, 0, total, (configuration) => {
          this.getDescriptor(STRING, 0, 255, () => {});
          for (const index of new Set([device[14], device[15], device[16]].filter((i) => i !== 0))) {
            this.getDescriptor(STRING, index, 255, (s) => {
              strings[index] = Buffer.from(s.subarray(2, s[0])).toString('utf16le');
            }, LANGUAGE_EN_US);
          }
          this.transfer(setup(0x00, SET_CONFIGURATION, 1, 0, 0), {
            done: () => this.configured(device, configuration, strings),
          });
        });
      });
    });
  }

  configured(device, configuration, strings) {
    const description = describe(device, configuration, strings);
    const data = description.interfaces.find((i) => i.class === 10); // CDC data
    const control = description.interfaces.find((i) => i.class === 2); // CDC communications
    const bulk = (dir) => data?.endpoints.find((e) => e.type === 'bulk' && e.direction === dir);
    if (!data || !control || !bulk('in') || !bulk('out')) {
      throw new Error(`not a CDC-ACM device: ${JSON.stringify(description)}`);
    }
    this.bulkIn = bulk('in').address & 0x0f;
    this.bulkOut = bulk('out').address & 0x0f;
    // 115200 8N1, then DTR and RTS: what a terminal program sends when it opens the port.
    const lineCoding = new Uint8Array([0x00, 0xc2, 0x01, 0x00, 0, 0, 8]);
    this.transfer(setup(0x21, CDC_SET_LINE_CODING, 0, control.number, 7), { dataOut: lineCoding });
    this.transfer(setup(0x21, CDC_SET_CONTROL_LINE_STATE, 0x3, control.number, 0), {
      done: () => {
        this.ready = true;
        this.onEnumerated(description);
        for (const bytes of this.serialBacklog.splice(0)) this.sendSerial(bytes);
      },
    });
  }
}

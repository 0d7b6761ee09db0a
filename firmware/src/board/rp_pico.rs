//! Raspberry Pi Pico: the RP2040's own USB as a CDC-ACM serial port, and the
//! on-board LED (GPIO 25) toggling with every chunk of received data.
use core::convert::Infallible;

use embedded_hal::digital::StatefulOutputPin;
use rp_pico::hal::{self, clocks::init_clocks_and_plls, gpio, pac, usb::UsbBus, Watchdog};
use usb_device::class_prelude::UsbBusAllocator;
use usb_device::prelude::{StringDescriptors, UsbDevice, UsbDeviceBuilder, UsbVidPid};
use usb_device::UsbError;
use usbd_serial::SerialPort;

type Led = gpio::Pin<gpio::bank0::Gpio25, gpio::FunctionSioOutput, gpio::PullDown>;

/// USB serial plus the activity LED, as one `embedded-io` link.
///
/// USB must be polled continuously; `read` and `write` poll while they wait,
/// so the application loop needs nothing USB-specific.
pub struct Link {
    usb: UsbDevice<'static, UsbBus>,
    serial: SerialPort<'static, UsbBus>,
    led: Led,
}

impl Link {
    /// Brings up clocks, USB and the LED; `None` if the peripherals were taken before.
    pub fn take() -> Option<Link> {
        let mut pac = pac::Peripherals::take()?;
        let mut watchdog = Watchdog::new(pac.WATCHDOG);
        let Ok(clocks) = init_clocks_and_plls(
            rp_pico::XOSC_CRYSTAL_FREQ,
            pac.XOSC,
            pac.CLOCKS,
            pac.PLL_SYS,
            pac.PLL_USB,
            &mut pac.RESETS,
            &mut watchdog,
        ) else {
            cortex_m::peripheral::SCB::sys_reset()
        };
        let sio = hal::Sio::new(pac.SIO);
        let pins = rp_pico::Pins::new(pac.IO_BANK0, pac.PADS_BANK0, sio.gpio_bank0, &mut pac.RESETS);
        let led = pins.led.into_push_pull_output();
        let bus = UsbBus::new(pac.USBCTRL_REGS, pac.USBCTRL_DPRAM, clocks.usb_clock, true, &mut pac.RESETS);
        let Some(bus) = cortex_m::singleton!(: UsbBusAllocator<UsbBus> = UsbBusAllocator::new(bus)) else {
            cortex_m::peripheral::SCB::sys_reset()
        };
        let serial = SerialPort::new(bus);
        // pid.codes test VID/PID for CDC-ACM; a product would register its own.
        let descriptors =
            StringDescriptors::default().manufacturer("tiny-mnist").product("digit classifier").serial_number("0001");
        let Ok(builder) = UsbDeviceBuilder::new(bus, UsbVidPid(0x16c0, 0x27dd)).strings(&[descriptors]) else {
            cortex_m::peripheral::SCB::sys_reset()
        };
        let usb = builder.device_class(usbd_serial::USB_CLASS_CDC).build();
        Some(Link { usb, serial, led })
    }

    fn poll(&mut self) {
        self.usb.poll(&mut [&mut self.serial]);
    }
}

impl embedded_io::ErrorType for Link {
    type Error = Infallible;
}

impl embedded_io::Read for Link {
    /// Polls USB until at least one byte arrives.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.poll();
            match self.serial.read(buf) {
                Ok(n) if n > 0 => {
                    let _ = self.led.toggle();
                    return Ok(n);
                }
                // Nothing yet, or the host is not connected: keep polling.
                Ok(_) | Err(UsbError::WouldBlock) | Err(_) => {}
            }
        }
    }
}

impl embedded_io::Write for Link {
    /// Polls USB until all of `buf` is queued.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let mut sent = 0;
        while sent < buf.len() {
            self.poll();
            match self.serial.write(buf.get(sent..).unwrap_or_default()) {
                Ok(n) => sent += n,
                Err(UsbError::WouldBlock) => {}
                // Disconnected: drop the rest, as a UART with no listener would.
                Err(_) => return Ok(buf.len()),
            }
        }
        Ok(sent)
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        loop {
            self.poll();
            match self.serial.flush() {
                Err(UsbError::WouldBlock) => {}
                _ => return Ok(()),
            }
        }
    }
}

// virtio console device definitions (virtio 1.2 section 5.3): the feature
// bits, config space and the multiport control messages.
#pragma once
#include "types.h"
#include "virtio/spec.h"

namespace virtio_console {

constexpr u32 kDeviceId = virtio::kDeviceConsole;

// Feature bits (5.3.3).
constexpr u64 kFSize = bit(0);       // VIRTIO_CONSOLE_F_SIZE
constexpr u64 kFMultiport = bit(1);  // VIRTIO_CONSOLE_F_MULTIPORT
constexpr u64 kFEmergWrite = bit(2); // VIRTIO_CONSOLE_F_EMERG_WRITE

// struct virtio_console_config, byte offsets (5.3.4).
enum class Config : u32 {
    Cols = 0,        // cols: le16
    Rows = 2,        // rows: le16
    MaxNrPorts = 4,  // max_nr_ports: le32 (kFMultiport)
    EmergWr = 8,     // emerg_wr: le32 (kFEmergWrite)
};
constexpr u32 off(Config c) { return static_cast<u32>(c); }

// Queues (5.3.2): port 0 receive/transmit, then (kFMultiport) the control
// receive/transmit pair, then two per further port.
constexpr u16 kControlRx = 2;
constexpr u16 kControlTx = 3;
constexpr u16 rx_queue(u32 port) { return static_cast<u16>(port == 0 ? 0 : 2 + 2 * port); }
constexpr u16 tx_queue(u32 port) { return static_cast<u16>(rx_queue(port) + 1); }

// struct virtio_console_control (5.3.6.2).
struct Control {
    u32 id;     // id: port number
    u16 event;  // event: kEvent*
    u16 value;  // value
};
static_assert(sizeof(Control) == 8);

// Control events.
constexpr u16 kDeviceReady = 0;   // VIRTIO_CONSOLE_DEVICE_READY (driver -> device)
constexpr u16 kDeviceAdd = 1;     // VIRTIO_CONSOLE_DEVICE_ADD (device -> driver)
constexpr u16 kDeviceRemove = 2;  // VIRTIO_CONSOLE_DEVICE_REMOVE
constexpr u16 kPortReady = 3;     // VIRTIO_CONSOLE_PORT_READY (driver -> device)
constexpr u16 kConsolePort = 4;   // VIRTIO_CONSOLE_CONSOLE_PORT
constexpr u16 kResize = 5;        // VIRTIO_CONSOLE_RESIZE
constexpr u16 kPortOpen = 6;      // VIRTIO_CONSOLE_PORT_OPEN (both ways)
constexpr u16 kPortName = 7;      // VIRTIO_CONSOLE_PORT_NAME

} // namespace virtio_console

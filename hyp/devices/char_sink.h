// The physical console behind an emulated serial device: where the guest's
// output goes, and the flow control for its input. put() is called with the
// device's lock held, so it must never call back into the device;
// rx_space() is called after the device let go of its lock, so it may (the
// throttle asks how much room there is).
#pragma once

class CharSink {
public:
    virtual void put(char c) = 0;
    // The device's receive FIFO has room again. A backend that stopped
    // reading its input because the FIFO was full resumes here, so typed
    // characters wait in the physical UART instead of being dropped.
    virtual void rx_space() {}

protected:
    ~CharSink() = default;
};

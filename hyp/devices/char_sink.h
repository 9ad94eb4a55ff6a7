// Where an emulated serial device sends the guest's output: the physical
// console. Implementations take their own lock, so they must never call back
// into a device.
#pragma once

class CharSink {
public:
    virtual void put(char c) = 0;

protected:
    ~CharSink() = default;
};

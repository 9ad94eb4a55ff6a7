// A level-sensitive interrupt input of the guest (an SPI of the vGIC) as a
// device model drives it. Devices call set_level() only when the level
// changes, possibly while holding their own lock.
#pragma once

class IrqLine {
public:
    virtual void set_level(bool level) = 0;

protected:
    ~IrqLine() = default;
};

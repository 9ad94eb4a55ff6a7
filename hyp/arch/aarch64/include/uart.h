#pragma once
#include "types.h"

void uart_set_base(u64 base);
void uart_putc(char c);
int uart_getc();            // -1 when the RX FIFO is empty
bool uart_rx_ready();
void uart_enable_rx_irq();  // RX and RX-timeout interrupts
void uart_disable_rx_irq();

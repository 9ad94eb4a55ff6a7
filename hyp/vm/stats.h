// The exit table: one column per vCPU, one row per exit reason, per VM, so
// the scheduling modes and placements can be compared.
#pragma once

class Vm;

// Every VM's table, then the machine's (Ctrl-] s).
void print_exit_stats();
// One VM's table (when it stops).
void print_vm_exit_stats(const Vm& vm);
// The per-pCPU rows and every disk's counters.
void print_machine_stats();

// The exit table: one column per vCPU, one row per exit reason, per VM, so
// the scheduling modes and placements can be compared.
#pragma once

void print_exit_stats();

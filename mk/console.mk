# make console VM=N: attach this terminal to the console of VM N (1-3) of a
# machine that `make run` (VMS=, VMCONF=) is running in another terminal.
# Its port is 127.0.0.1:5550+N; Ctrl-] q detaches (docs/multi-vm.md).

VM ?=

.PHONY: console
console:
	@$(if $(filter 1 2 3,$(VM)),,$(error VM=$(VM): give the VM whose console to attach, VM=1, 2 or 3 (VM 0's is make run's terminal)))
	@python3 scripts/console.py $(VM)

# ravf top-level Makefile. Portable between GNU make (Linux: tests, demo, checks)
# and BSD make (FreeBSD: plain `make` builds if_ravf.ko through kmod/).

CARGO ?= cargo

all: module

# On FreeBSD: build if_ravf.ko with bsd.kmod.mk. Elsewhere: say what to run instead.
module:
	@if [ "`uname -s`" = FreeBSD ]; then cd kmod && $(MAKE); \
	else echo "ravf: 'make' builds if_ravf.ko on FreeBSD; here try 'make demo' or 'make check'"; fi

load unload:
	cd kmod && $(MAKE) $@

demo:
	$(CARGO) run -q --release -p ravf-harness --bin ravf-demo -- $(DEMO_ARGS)

check:
	$(CARGO) build --workspace --all-targets
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace

check-guest:
	bash tests/guest/check-guest.sh

kmod-check:
	bash kmod/kmod-check.sh

bench:
	bash tests/bench/bench.sh

.PHONY: all module load unload demo check check-guest kmod-check bench

# ravf top-level Makefile. Portable between GNU make (Linux: tests, demo, checks)
# and BSD make (FreeBSD: plain `make` builds if_ravf.ko through kmod/).

CARGO ?= cargo

all: module

# On FreeBSD: build if_ravf.ko with bsd.kmod.mk. Elsewhere: say what to run instead.
module:
	@if [ "`uname -s`" = FreeBSD ]; then cd kmod && $(MAKE); \
	else echo "ravf: 'make' builds if_ravf.ko on FreeBSD; here try 'make demo' or 'make check'"; fi

unload load:
	@if [ "`uname -s`" = FreeBSD ]; then cd kmod && $(MAKE) $@; \
	else echo "ravf: 'make $@' runs kldload/kldunload on FreeBSD only" >&2; exit 1; fi

demo:
	$(CARGO) run -q --release -p ravf-harness --bin ravf-demo -- $(DEMO_ARGS)

# Needs root: two network namespaces with a TAP each, ravf behind both (tests/netns).
demo-netns:
	bash tests/netns/demo-netns.sh

check:
	$(CARGO) build --workspace --all-targets
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace

check-guest:
	CARGO=$(CARGO) bash tests/guest/check-guest.sh

kmod-check:
	bash kmod/kmod-check.sh

bench:
	bash tests/bench/bench.sh

# Coverage-guided fuzzing (nightly + cargo-fuzz): each target for FUZZ_SECS (30) seconds.
fuzz:
	bash fuzz/run.sh $(FUZZ_SECS)

.PHONY: all module load unload demo demo-netns check check-guest kmod-check bench fuzz

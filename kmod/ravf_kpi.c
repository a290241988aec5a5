/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * ravf_kpi_*: one-line C wrappers for the KPIs the Rust side cannot call directly
 * (macros, static inlines, varargs, linker-set declarations). The list, the contexts
 * each may be called from and the Rust signatures are in ffi/src/kpi.rs; this file
 * must implement exactly that list, and kmod-check's allowlist names each symbol.
 * No policy here: arguments are passed through, results returned.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/bus.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/priority.h>
#include <sys/rman.h>
#include <sys/socket.h>
#include <sys/sx.h>
#include <sys/taskqueue.h>
#include <sys/time.h>

#include <machine/bus.h>
#include <machine/resource.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_dl.h>
#include <net/if_var.h>
#include <net/iflib.h>

#include <dev/pci/pcireg.h>
#include <dev/pci/pcivar.h>

#include "ravf.h"

MALLOC_DEFINE(M_RAVF, "ravf", "ravf (Intel 700-series VF) driver");

/* ffi/src/kpi.rs declares every function below; these prototypes keep -Werror happy. */
void	*ravf_kpi_bar0_map(device_t dev, uint64_t *size);
void	 ravf_kpi_bar0_unmap(device_t dev, void *bar);
uint32_t ravf_kpi_rd32(void *bar, uint32_t off);
void	 ravf_kpi_wr32(void *bar, uint32_t off, uint32_t val);
int	 ravf_kpi_pci_enable_busmaster(device_t dev);
int	 ravf_kpi_msix_table_bar(device_t dev);
void	*ravf_kpi_malloc(size_t size, int flags);
void	 ravf_kpi_free(void *p);
void	 ravf_kpi_delay_us(uint32_t us);
void	 ravf_kpi_sleep_us(uint32_t us);
uint64_t ravf_kpi_now_us(void);
void	 ravf_kpi_random(uint8_t *buf, size_t len);
void	 ravf_kpi_log(device_t dev, int level, const char *msg, size_t len);
void	 ravf_kpi_panic(const char *msg, size_t len) __dead2;
void	*ravf_kpi_admin_task_init(device_t dev, void *arg);
void	 ravf_kpi_admin_task_enqueue(void *tq);
void	 ravf_kpi_admin_task_drain(void *tq);
void	 ravf_kpi_admin_task_free(void *tq);
void	*ravf_kpi_mtx_init(const char *name);
void	 ravf_kpi_mtx_lock(void *m);
void	 ravf_kpi_mtx_unlock(void *m);
void	 ravf_kpi_mtx_destroy(void *m);
uint32_t ravf_kpi_mc_list(if_t ifp, uint8_t *buf, uint32_t max);

/*
 * BAR0. The handle is the struct resource itself: bus_read_4/bus_write_4 (machine/bus.h
 * macros over rman_get_bustag/bushandle) take it directly.
 */
void *
ravf_kpi_bar0_map(device_t dev, uint64_t *size)
{
	struct resource *res;
	int rid;

	rid = PCIR_BAR(0);
	res = bus_alloc_resource_any(dev, SYS_RES_MEMORY, &rid, RF_ACTIVE);
	if (res == NULL)
		return (NULL);
	*size = rman_get_size(res);
	return (res);
}

void
ravf_kpi_bar0_unmap(device_t dev, void *bar)
{
	struct resource *res = bar;

	if (res != NULL)
		bus_release_resource(dev, SYS_RES_MEMORY, rman_get_rid(res), res);
}

uint32_t
ravf_kpi_rd32(void *bar, uint32_t off)
{
	return (bus_read_4((struct resource *)bar, off));
}

void
ravf_kpi_wr32(void *bar, uint32_t off, uint32_t val)
{
	bus_write_4((struct resource *)bar, off, val);
}

int
ravf_kpi_pci_enable_busmaster(device_t dev)
{
	return (pci_enable_busmaster(dev));
}

int
ravf_kpi_msix_table_bar(device_t dev)
{
	return (pci_msix_table_bar(dev));
}

/* malloc(9) with our type; only the flags the Rust side is documented to pass. */
void *
ravf_kpi_malloc(size_t size, int flags)
{
	return (malloc(size, M_RAVF, flags & (M_NOWAIT | M_WAITOK | M_ZERO)));
}

void
ravf_kpi_free(void *p)
{
	free(p, M_RAVF);
}

void
ravf_kpi_delay_us(uint32_t us)
{
	DELAY(us);
}

/* pause_sbt(9): a zero timeout is not a sleep, so ask for at least 1 us. */
void
ravf_kpi_sleep_us(uint32_t us)
{
	pause_sbt("ravf", ustosbt(MAX(us, 1)), 0, C_PREL(1));
}

uint64_t
ravf_kpi_now_us(void)
{
	return ((uint64_t)sbttous(sbinuptime()));
}

void
ravf_kpi_random(uint8_t *buf, size_t len)
{
	arc4random_buf(buf, len);
}

/*
 * Levels: 0 error, 1 warning, 2 info, 3 debug (printed only with hw.ravf.debug_mask).
 * device_printf prefixes the unit ("ravf0: "); with no device, printf says "ravf: ".
 */
void
ravf_kpi_log(device_t dev, int level, const char *msg, size_t len)
{
	int n = (int)MIN(len, 1024);

	if (level >= 3 && ravf_debug_mask == 0)
		return;
	if (dev != NULL)
		device_printf(dev, "%.*s\n", n, msg);
	else
		printf("ravf: %.*s\n", n, msg);
}

/* The Rust panic handler's message already names the driver ("ravf: panicked at"). */
void
ravf_kpi_panic(const char *msg, size_t len)
{
	panic("%.*s", (int)MIN(len, 1024), msg);
}

/*
 * The admin (virtchnl) taskqueue: one thread at PI_NET, one task that runs the Rust
 * ravf_admin_task(arg). taskqueue_enqueue coalesces while the task is pending, and is
 * safe from interrupt filters (taskqueue_thread_enqueue only wakes the thread).
 */
struct ravf_kpi_tq {
	struct taskqueue	*rkt_tq;
	struct task		 rkt_task;
	void			*rkt_arg;
};

static void
ravf_kpi_task_fn(void *context, int pending __unused)
{
	struct ravf_kpi_tq *t = context;

	ravf_admin_task(t->rkt_arg);
}

void *
ravf_kpi_admin_task_init(device_t dev, void *arg)
{
	struct ravf_kpi_tq *t;

	t = malloc(sizeof(*t), M_RAVF, M_WAITOK | M_ZERO);
	t->rkt_arg = arg;
	TASK_INIT(&t->rkt_task, 0, ravf_kpi_task_fn, t);
	/*
	 * A fast taskqueue, as iavf's "iavf_vc": the admin interrupt filter
	 * (ravf_msix_adminq) enqueues to it from filter context, where only a
	 * spin-mutex taskqueue may be used.
	 */
	t->rkt_tq = taskqueue_create_fast("ravf_vc", M_WAITOK, taskqueue_thread_enqueue,
	    &t->rkt_tq);
	if (t->rkt_tq == NULL) {
		free(t, M_RAVF);
		return (NULL);
	}
	if (taskqueue_start_threads(&t->rkt_tq, 1, PI_NET, "%s vc",
	    device_get_nameunit(dev)) != 0) {
		taskqueue_free(t->rkt_tq);
		free(t, M_RAVF);
		return (NULL);
	}
	return (t);
}

void
ravf_kpi_admin_task_enqueue(void *tq)
{
	struct ravf_kpi_tq *t = tq;

	taskqueue_enqueue(t->rkt_tq, &t->rkt_task);
}

void
ravf_kpi_admin_task_drain(void *tq)
{
	struct ravf_kpi_tq *t = tq;

	taskqueue_drain(t->rkt_tq, &t->rkt_task);
}

void
ravf_kpi_admin_task_free(void *tq)
{
	struct ravf_kpi_tq *t = tq;

	if (t == NULL)
		return;
	taskqueue_drain(t->rkt_tq, &t->rkt_task);
	taskqueue_free(t->rkt_tq);
	free(t, M_RAVF);
}

/*
 * The control-plane lock: sx(9), because its holder may sleep (pause_sbt while waiting
 * for the PF). `name` must outlive the lock (the Rust side passes a static string).
 */
void *
ravf_kpi_mtx_init(const char *name)
{
	struct sx *sx;

	sx = malloc(sizeof(*sx), M_RAVF, M_WAITOK | M_ZERO);
	sx_init(sx, name);
	return (sx);
}

void
ravf_kpi_mtx_lock(void *m)
{
	sx_xlock((struct sx *)m);
}

void
ravf_kpi_mtx_unlock(void *m)
{
	sx_xunlock((struct sx *)m);
}

void
ravf_kpi_mtx_destroy(void *m)
{
	if (m == NULL)
		return;
	sx_destroy((struct sx *)m);
	free(m, M_RAVF);
}

/* Multicast list: copy up to `max` addresses, count them all. */
struct ravf_kpi_mc {
	uint8_t		*buf;
	uint32_t	 max;
};

static u_int
ravf_kpi_mc_cb(void *arg, struct sockaddr_dl *sdl, u_int cnt)
{
	struct ravf_kpi_mc *mc = arg;

	if (cnt < mc->max)
		bcopy(LLADDR(sdl), mc->buf + (size_t)cnt * ETHER_ADDR_LEN,
		    ETHER_ADDR_LEN);
	return (1);
}

uint32_t
ravf_kpi_mc_list(if_t ifp, uint8_t *buf, uint32_t max)
{
	struct ravf_kpi_mc mc = { buf, max };

	return (if_foreach_llmaddr(ifp, ravf_kpi_mc_cb, &mc));
}

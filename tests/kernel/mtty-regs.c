// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mtty-regs: give an mtty instance's port 0 a distinctive state through its
 * BAR0 (the 16550-like registers mtty emulates), or print that state, so a
 * test can tell that a migration carried the device's state and not just
 * some valid bytes.
 *
 *   mtty-regs set CDEV    divisor, LCR, MCR, SCR, FCR and IER set, and
 *                         "vfio-migtools" written into the loop-back FIFO
 *   mtty-regs show CDEV   one line: the registers mtty lets a driver read
 *                         back, then the FIFO's bytes (reading drains it)
 *
 * Everything the line shows is part of mtty's migration data (struct
 * serial_port in samples/vfio-mdev/mtty.c): two instances that print the
 * same line after a migration had their state carried.  The divisor is in
 * the data too, but mtty clears it when DLAB is set, so it cannot be read
 * back; set still writes one, so a load that dropped it would change the
 * bytes a second migration sends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kt-uapi.h"

/* 16550 register offsets and the bits mtty looks at */
#define UART_RX 0  /* read */
#define UART_TX 0  /* write */
#define UART_DLL 0 /* with DLAB */
#define UART_IER 1
#define UART_DLM 1 /* with DLAB */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_LCR_DLAB 0x80
#define UART_LSR_DR 0x01
#define MTTY_FIFO_SIZE 16

/*
 * The distinctive state: 8 data bits, 2 stop bits, even parity; DTR, RTS,
 * OUT2; FIFO enabled and cleared, trigger level 14; only the line-status
 * interrupt enabled (no interrupt fires while the FIFO is filled).
 */
#define SET_DIVISOR 0x030c
#define SET_LCR 0x1f
#define SET_MCR 0x0b
#define SET_SCR 0xa5
#define SET_FCR 0xc7
#define SET_IER 0x04
static const char set_fifo[] = "vfio-migtools";

struct bar {
	int dev_fd;
	__u64 offset; /* BAR0's offset in the device fd */
};

static int vfio_device_get_region_info(int dev_fd, __u32 index, struct vfio_region_info *info)
{
	*info = (struct vfio_region_info){
		.argsz = sizeof(*info),
		.index = index,
	};
	if (ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, info))
		return -errno;
	return 0;
}

static int vfio_device_bind_iommufd(int dev_fd, int iommufd)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};

	if (ioctl(dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -errno;
	return 0;
}

static int bar_open(struct bar *bar, const char *cdev)
{
	struct vfio_region_info info;
	int iommufd, ret;

	bar->dev_fd = open(cdev, O_RDWR | O_CLOEXEC);
	if (bar->dev_fd < 0) {
		fprintf(stderr, "mtty-regs: open %s: %s\n", cdev, strerror(errno));
		return -1;
	}
	/* A cdev grants access to its regions once bound to an iommufd. */
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0) {
		fprintf(stderr, "mtty-regs: open /dev/iommu: %s\n", strerror(errno));
		return -1;
	}
	ret = vfio_device_bind_iommufd(bar->dev_fd, iommufd);
	if (ret) {
		fprintf(stderr, "mtty-regs: VFIO_DEVICE_BIND_IOMMUFD: %s\n", strerror(-ret));
		return -1;
	}
	ret = vfio_device_get_region_info(bar->dev_fd, VFIO_PCI_BAR0_REGION_INDEX, &info);
	if (ret) {
		fprintf(stderr, "mtty-regs: VFIO_DEVICE_GET_REGION_INFO BAR0: %s\n",
			strerror(-ret));
		return -1;
	}
	if (info.size < 8) {
		fprintf(stderr, "mtty-regs: BAR0 is %llu bytes, not a UART\n",
			(unsigned long long)info.size);
		return -1;
	}
	bar->offset = info.offset;
	return 0;
}

static int reg_write(struct bar *bar, unsigned int reg, unsigned char val)
{
	if (pwrite(bar->dev_fd, &val, 1, bar->offset + reg) != 1) {
		fprintf(stderr, "mtty-regs: write register %u: %s\n", reg, strerror(errno));
		return -1;
	}
	return 0;
}

static int reg_read(struct bar *bar, unsigned int reg, unsigned char *val)
{
	if (pread(bar->dev_fd, val, 1, bar->offset + reg) != 1) {
		fprintf(stderr, "mtty-regs: read register %u: %s\n", reg, strerror(errno));
		return -1;
	}
	return 0;
}

static int regs_set(struct bar *bar)
{
	size_t i;

	/* FCR first: it clears the FIFO the bytes below go into. */
	if (reg_write(bar, UART_FCR, SET_FCR) ||
	    reg_write(bar, UART_LCR, SET_LCR | UART_LCR_DLAB) ||
	    reg_write(bar, UART_DLL, SET_DIVISOR & 0xff) ||
	    reg_write(bar, UART_DLM, SET_DIVISOR >> 8) || reg_write(bar, UART_LCR, SET_LCR) ||
	    reg_write(bar, UART_MCR, SET_MCR) || reg_write(bar, UART_SCR, SET_SCR))
		return -1;
	for (i = 0; i < strlen(set_fifo); i++)
		if (reg_write(bar, UART_TX, (unsigned char)set_fifo[i]))
			return -1;
	return reg_write(bar, UART_IER, SET_IER);
}

static int regs_show(struct bar *bar)
{
	static const struct {
		const char *name;
		unsigned int reg;
	} regs[] = {
		{ "IER", UART_IER }, { "IIR", UART_IIR }, { "LCR", UART_LCR }, { "MCR", UART_MCR },
		{ "LSR", UART_LSR }, { "MSR", UART_MSR }, { "SCR", UART_SCR },
	};
	unsigned char val, lsr;
	size_t i;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		if (reg_read(bar, regs[i].reg, &val))
			return -1;
		printf("%s=%02x ", regs[i].name, val);
	}
	printf("FIFO=");
	/* one more read than the FIFO holds: a FIFO that never empties is a bug */
	for (i = 0; i <= MTTY_FIFO_SIZE; i++) {
		if (reg_read(bar, UART_LSR, &lsr))
			return -1;
		if (!(lsr & UART_LSR_DR))
			break;
		if (reg_read(bar, UART_RX, &val))
			return -1;
		printf("%02x", val);
	}
	printf("\n");
	if (i > MTTY_FIFO_SIZE) {
		fprintf(stderr, "mtty-regs: the FIFO still has data after %d reads\n",
			MTTY_FIFO_SIZE);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bar bar;

	if (argc != 3 || (strcmp(argv[1], "set") && strcmp(argv[1], "show"))) {
		fprintf(stderr, "Usage: mtty-regs set|show CDEV\n");
		return 2;
	}
	if (bar_open(&bar, argv[2]))
		return 1;
	if (!strcmp(argv[1], "set"))
		return regs_set(&bar) ? 1 : 0;
	return regs_show(&bar) ? 1 : 0;
}

/*===- startup.c - Reset and fault handlers for a Cortex-M -----------------===*
 *
 * The vector table and Reset_Handler of the firmware example: enable the
 * FPU (and on the M55 Helium, through the same CPACR bits; the model is
 * compiled for the hard-float ABI), copy .data from flash
 * to RAM, clear .bss, open newlib's semihosting streams, run main() and
 * exit with its status. A fault prints its name through semihosting and
 * ends the run, so that a test never waits on a hung board.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdlib.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);
extern void initialise_monitor_handles(void);

/* An Arm semihosting call: operation `op` with argument block `arg`. */
static int semihost(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static void fault(const char *name) {
  enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 };
  semihost(SYS_WRITE0, name);
  semihost(SYS_EXIT, (const void *)0x20024); /* ADP_Stopped_InternalError */
  for (;;)
    ;
}

void Reset_Handler(void) {
  uint32_t *src = &_sidata, *dst;
  /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
  *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  for (dst = &_sdata; dst < &_edata;)
    *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss;)
    *dst++ = 0;
  initialise_monitor_handles();
  exit(main());
}

/* newlib's exit() runs _fini, which crti.o (left out with -nostartfiles)
 * would define; nothing to do here. */
void _init(void) {}
void _fini(void) {}

static void NMI_Handler(void) { fault("NMI\n"); }
static void HardFault_Handler(void) { fault("HardFault\n"); }
static void MemManage_Handler(void) { fault("MemManage fault\n"); }
static void BusFault_Handler(void) { fault("BusFault\n"); }
static void UsageFault_Handler(void) { fault("UsageFault\n"); }
static void Other_Handler(void) { fault("unexpected interrupt\n"); }

/* Initial stack pointer, then the handlers, at address 0. */
__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(
    void) = {
    (void (*)(void))(uintptr_t)&_estack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0,
    0,
    0,
    0,
    Other_Handler, /* SVCall */
    Other_Handler, /* DebugMonitor */
    0,
    Other_Handler, /* PendSV */
    Other_Handler, /* SysTick */
};

/*
 * xendrvgen OS API contract: NetBSD <machine/pic.h> (sys/arch/x86/include/
 * pic.h), included by the installed <x86/intr.h>.  The generated drivers
 * pass a struct pic pointer through without looking inside.
 */
#ifndef _X86_PIC_H
#define _X86_PIC_H
struct pic;
#endif /* _X86_PIC_H */

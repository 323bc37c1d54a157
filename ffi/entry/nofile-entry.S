/*
 * The entry point of build/tsrun (x86-64), put in front of bun's by scripts/append-natives.ts.
 * Bun raises its RLIMIT_NOFILE soft limit to the hard limit before any JavaScript runs, but a
 * container must get the caller's limit. This runs first: it reads the limit the process was
 * started with and hands it to tsrun as one more, last, argument "TSRUN_CALLER_NOFILE=<soft>
 * <hard>" (src/caller-nofile.ts takes it out of process.argv). The last argument is always this
 * stub's, whatever the caller passes. Not the environment: glibc's dynamic start-up keeps the
 * environ pointer of the original stack, while main's argv is the one _start finds.
 * The stack is the kernel's, argc..auxv copied below the original block with the one argument
 * added; then it jumps to bun's own entry. Raw syscalls, no libc (not initialised yet).
 */
	.text
	.globl	nofile_entry
nofile_entry:
	mov	%rdx, %r15		/* _start's rtld_fini */
	mov	%rsp, %r14		/* argc, argv[], 0, envp[], 0, auxv pairs */
	lea	-160(%rsp), %r13
	and	$-16, %r13		/* [r13, r13+16): struct rlimit; the string ends at r13+143 */
	mov	%r13, %rsp		/* calls push below all of it */

	lea	143(%r13), %rdi
	movb	$0, (%rdi)
	mov	$97, %eax		/* getrlimit(RLIMIT_NOFILE, r13) */
	mov	$7, %edi
	mov	%r13, %rsi
	syscall
	lea	143(%r13), %rdi
	test	%rax, %rax
	jnz	.Lprefix		/* no value: an empty one, which tsrun ignores */
	mov	8(%r13), %rax		/* "<soft> <hard>", written backwards */
	call	.Ldigits
	dec	%rdi
	movb	$' ', (%rdi)
	mov	(%r13), %rax
	call	.Ldigits
.Lprefix:
	mov	$PREFIX_LEN, %ecx
	sub	%rcx, %rdi
	mov	%rdi, %rbx		/* the string */
	lea	prefix(%rip), %rsi
	rep movsb

	/* the original block's length: through the AT_NULL pair of auxv */
	mov	(%r14), %rcx
	lea	16(%r14,%rcx,8), %r10	/* envp */
1:	cmpq	$0, (%r10)
	lea	8(%r10), %r10
	jne	1b
2:	cmpq	$0, (%r10)		/* auxv: r10 ends past the AT_NULL pair */
	lea	16(%r10), %r10
	jne	2b
	sub	%r14, %r10
	lea	8(%r10), %rax		/* plus our entry */
	mov	%rbx, %rdi
	sub	%rax, %rdi
	and	$-16, %rdi
	mov	%rdi, %rsp		/* the new block, argc at a 16-byte aligned rsp */

	mov	(%r14), %rcx		/* argc + 1 */
	lea	1(%rcx), %rax
	mov	%rax, (%rdi)
	add	$8, %rdi
	lea	8(%r14), %rsi
	rep movsq			/* argv[] */
	mov	%rbx, (%rdi)		/* then ours, last */
	movq	$0, 8(%rdi)
	add	$16, %rdi
	add	$8, %rsi		/* past the old NULL */
3:	mov	(%rsi), %rax		/* envp[] and its NULL */
	mov	%rax, (%rdi)
	add	$8, %rsi
	add	$8, %rdi
	test	%rax, %rax
	jnz	3b
7:	mov	(%rsi), %rax		/* auxv, through AT_NULL */
	mov	8(%rsi), %rcx
	mov	%rax, (%rdi)
	mov	%rcx, 8(%rdi)
	add	$16, %rsi
	add	$16, %rdi
	test	%rax, %rax
	jnz	7b

	mov	%r15, %rdx
	jmp	*orig_entry(%rip)

/* rax: a value; writes its decimal digits to end just before (%rdi); rdi -> the first one */
.Ldigits:
	mov	$10, %ecx
8:	xor	%edx, %edx
	div	%rcx
	add	$'0', %dl
	dec	%rdi
	mov	%dl, (%rdi)
	test	%rax, %rax
	jnz	8b
	ret

prefix:
	.ascii	"TSRUN_CALLER_NOFILE="
	.set	PREFIX_LEN, . - prefix
	.balign	8
orig_entry:			/* bun's entry point, filled in by scripts/append-natives.ts (the last 8 bytes) */
	.quad	0

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigTxt, raspiArgs } from './raspi.js';

void test("config.txt: the kernel and initramfs a Pi 3 boots, from [all] and [pi3] but not [pi4]", () => {
  const debian = '# Do not modify this file!\narm_64bit=1\nenable_uart=1\nupstream_kernel=1\n\nkernel=vmlinuz-6.1.0-50-arm64\n# For details\ninitramfs initrd.img-6.1.0-50-arm64\n';
  assert.deepEqual(parseConfigTxt(debian), { kernel: 'vmlinuz-6.1.0-50-arm64', initramfs: 'initrd.img-6.1.0-50-arm64' });
  const sections = '[pi4]\nkernel=k4\n[pi3]\nkernel=k3\n[all]\ninitramfs i followkernel\n';
  assert.deepEqual(parseConfigTxt(sections), { kernel: 'k3', initramfs: 'i' });
  assert.deepEqual(parseConfigTxt('enable_uart=1\n'), {});
});

void test('raspi3b: kernel, initramfs, DTB and cmdline.txt handed over; the SD card; the GPIO UART as the console', () => {
  const boot = { kernel: '/t/vmlinuz', initrd: '/t/initrd', dtb: '/t/bcm2837-rpi-3-b.dtb', append: 'console=ttyS1,115200 root=PARTUUID=46550074-02 rw', sd: '/t/sd.qcow2' };
  const args = raspiArgs(boot, false).join(' ');
  assert.ok(args.includes('-machine raspi3b -accel tcg'));
  assert.ok(args.includes('-kernel /t/vmlinuz -initrd /t/initrd -dtb /t/bcm2837-rpi-3-b.dtb -append console=ttyS1,115200 root=PARTUUID=46550074-02 rw'));
  assert.ok(args.includes('-drive if=sd,format=qcow2,file=/t/sd.qcow2'));
  // QEMU's first serial port is the PL011 (Bluetooth on a real Pi); the mini UART, ttyS1, is the second.
  assert.ok(args.includes('-serial null -serial stdio'));
  assert.ok(raspiArgs(boot, true).join(' ').includes('-nographic -serial null -serial mon:stdio'));
});

/**
 * Tunnel sockets (`system.socket_io`): the CPU one datagram costs to send through one tunnel socket and receive on
 * another, Node's dgram against the native addon's (recvmmsg batches), in one process on loopback. Bursts of 32
 * datagrams, the next burst once the last one arrived, so the receiver finds several queued as it does under load.
 */
import type { SocketFactory, TunnelSocket } from '../src/workers/sockets.js';
import { NativeUdpSocketFactory, UdpSocketFactory } from '../src/workers/sockets.js';

const DATAGRAMS = 200_000;
const BURST = 32;
/** An L2TP data message with an LCP Echo-Request in it is about this long. */
const PAYLOAD = Buffer.alloc(24, 7);

export interface SocketIoResult {
  datagrams: number;
  payloadBytes: number;
  dgram: { cpuMicrosecondsPerDatagram: number; datagramsPerCpuSecond: number };
  native: { cpuMicrosecondsPerDatagram: number; datagramsPerCpuSecond: number };
  nativeToDgramCpuRatio: number;
}

async function run(factory: SocketFactory, base: number): Promise<{ cpuMicrosecondsPerDatagram: number; datagramsPerCpuSecond: number }> {
  const a = { address: '127.0.155.1', port: base };
  const b = { address: '127.0.155.2', port: base + 1 };
  let got = 0;
  let sent = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  let sender: TunnelSocket | undefined;
  const burst = (): void => {
    for (let i = 0; i < BURST && sent < DATAGRAMS; i++, sent++) sender!.send(PAYLOAD);
  };
  const receiver = await factory.open(b, a, () => {
    got++;
    if (got === DATAGRAMS) finish();
    else if (got === sent) burst();
  });
  sender = await factory.open(a, b, () => undefined);
  const cpu0 = process.cpuUsage();
  burst();
  await done;
  const cpu = process.cpuUsage(cpu0);
  sender.close();
  receiver.close();
  const us = (cpu.user + cpu.system) / DATAGRAMS;
  return { cpuMicrosecondsPerDatagram: Math.round(us * 100) / 100, datagramsPerCpuSecond: Math.round(1e6 / us) };
}

export async function runSocketIoBench(): Promise<SocketIoResult> {
  const big = 4 << 20;
  await run(new UdpSocketFactory(big), 41_000); // warm-up of the JIT for both paths
  await run(new NativeUdpSocketFactory(big), 41_010);
  const dgram = await run(new UdpSocketFactory(big), 41_020);
  const native = await run(new NativeUdpSocketFactory(big), 41_030);
  return {
    datagrams: DATAGRAMS,
    payloadBytes: PAYLOAD.length,
    dgram,
    native,
    nativeToDgramCpuRatio: Math.round((native.cpuMicrosecondsPerDatagram / dgram.cpuMicrosecondsPerDatagram) * 100) / 100,
  };
}

/**
 * Run by smoke.sh inside the VM, with the project's node (which strips the types itself): resolves the `l2tp`
 * generic netlink family with the npm package the kernel data plane uses, and prints its id.
 * Exits 1 when the family is missing.
 */
import nl from 'netlink';

const sock = nl.createGenericNetlink();
try {
  const families = await sock.ctrlRequest(nl.genl.Commands.GET_FAMILY, { familyName: 'l2tp' });
  const id = families[0]?.familyId;
  if (id === undefined) {
    console.error('generic netlink family l2tp: not found');
    process.exitCode = 1;
  } else {
    console.log(`generic netlink family l2tp: id ${id}`);
  }
} finally {
  sock.socket.close();
}

/**
 * kiln's Ansible connection plugin (Python), written into the ansible stage's scratch folder and
 * named by ANSIBLE_CONNECTION_PLUGINS: ansible-core ships no chroot connection (community.general's
 * comes with Debian's 250 MB `ansible` package), and this one is small enough to keep here.
 * Modules run with chroot into the image root, or, for `kiln apply`, with nsenter into the
 * namespaces and root of a running container's init (`pid:N`); files are written and read from
 * inside, so a symbolic link in the image never leads to the host.
 */
export const CONNECTION_PLUGIN = `# kiln's chroot connection: ansible-core has none (community.general's needs Debian's whole ansible package).
from __future__ import annotations

DOCUMENTATION = '''
name: kiln_chroot
short_description: Run tasks in an image root on this machine with chroot
description:
  - kiln builds the image root; ansible-playbook runs on the host and this connection runs each module with chroot.
author: kiln
options:
  remote_addr:
    description: The image root on the host, or pid:N for the init process of a running container.
    default: inventory_hostname
    vars:
      - name: ansible_host
'''

import os
import subprocess

from ansible.errors import AnsibleError
from ansible.plugins.connection import ConnectionBase


class Connection(ConnectionBase):
    transport = 'kiln_chroot'
    has_pipelining = True
    has_tty = False
    default_user = 'root'

    def _connect(self):
        address = self.get_option('remote_addr')
        if address.startswith('pid:'):
            pid = address[4:]
            if not os.path.isdir('/proc/%s' % pid):
                raise AnsibleError('the container (init process %s) is no longer running' % pid)
            # Its mount, UTS, IPC, network and PID namespaces, its root and working folder.
            self.enter = ['nsenter', '--target', pid, '--mount', '--uts', '--ipc', '--net', '--pid', '--root', '--wd', '--']
        else:
            if not os.path.isdir(address):
                raise AnsibleError('image root %s is not a folder' % address)
            self.enter = ['chroot', address]
        self._connected = True
        return self

    def _chroot(self, argv, stdin=None, stdout=subprocess.PIPE):
        return subprocess.Popen(self.enter + argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)

    def exec_command(self, cmd, in_data=None, sudoable=False):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        proc = self._chroot(['/bin/sh', '-c', cmd], stdin=subprocess.PIPE)
        stdout, stderr = proc.communicate(in_data)
        return proc.returncode, stdout, stderr

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        # Written from inside the root, so links in the image resolve there and never on the host.
        with open(in_path, 'rb') as source:
            proc = self._chroot(['/bin/sh', '-c', 'cat > "$1"', 'put', out_path], stdin=source)
            stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise AnsibleError('could not write %s in the image: %s' % (out_path, stderr.decode(errors='replace')))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        with open(out_path, 'wb') as target:
            proc = self._chroot(['cat', in_path], stdout=target)
            stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise AnsibleError('could not read %s in the image: %s' % (in_path, stderr.decode(errors='replace')))

    def close(self):
        super(Connection, self).close()
        self._connected = False
`;

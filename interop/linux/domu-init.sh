#!/bin/sh
# /init of the PV guest: sets up a minimal system, then serves dom0's
# requests.  dom0 writes "SEQ COMMAND" to the guest's data/xdg-cmd XenStore
# node; the guest runs COMMAND (a step from /xdg/domu-steps.sh) and answers
# with its output in data/xdg-out and "SEQ RC" in data/xdg-ack.  Paths are
# relative to the guest's own XenStore home, so they survive xl save/restore
# (which gives the guest a new domain id).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
. /xdg/lib.sh
. /xdg/domu-steps.sh
# `xl shutdown` runs the kernel's poweroff helper: make it a clean poweroff.
printf '#!/bin/sh\necho "XDG-G orderly poweroff requested"\nsync\npoweroff -f\n' > /tmp/poweroff
chmod +x /tmp/poweroff
echo /tmp/poweroff > /proc/sys/kernel/poweroff_cmd
echo "XDG-G guest up: kernel $(uname -r), $(nproc) vcpus, $(sed -n 's/MemTotal: *//p' /proc/meminfo)"
dmesg -n 4
dmesg -c > /dev/null

i=0
until xenstore-write data/xdg-ready 1 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 50 ] && { echo "XDG-G cannot write to XenStore"; break; }
    sleep 0.2
done

# One long-lived watch: XenStore fires it once when it is set up and once per
# change, so no command is missed and nothing polls.
serve() {
    xenstore-watch data/xdg-cmd 2>/dev/null | while read -r _; do
        c=$(xenstore-read data/xdg-cmd 2>/dev/null)
        seq=${c%% *}
        [ -n "$c" ] && [ "$seq" != "$(cat /tmp/xdg-last 2>/dev/null)" ] || continue
        echo "$seq" > /tmp/xdg-last
        body=${c#* }
        echo "XDG-G [$(uptime_s)] > $body"
        t0=$(uptime_s)
        (eval "$body") < /dev/null > /tmp/xdg-out 2>&1
        rc=$?
        sed 's/^/XDG-G   /' /tmp/xdg-out
        echo "XDG-G [$(uptime_s)] < rc $rc after $(awk "BEGIN { print $(uptime_s) - $t0 }") s"
        dmesg -c | sed 's/^/XDG-G dmesg: /'
        xenstore-write data/xdg-out "$(tail -c 3000 /tmp/xdg-out)" data/xdg-ack "$seq $rc"
    done
}
while :; do
    serve
    echo "XDG-G [$(uptime_s)] the XenStore watch ended; watching again"
    sleep 1
done

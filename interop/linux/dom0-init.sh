#!/bin/sh
# /init of the PV dom0: starts the Xen toolstack, then runs the units of
# /xdg/plan (appended to the initramfs by the host for this run) in order and
# powers the machine off.  Everything the host reads is on the console
# (serial): XDG-BEGIN/XDG-RESULT/XDG-END lines, DOM0| DOMU| DMESG| XS| logs.
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
# udev makes these; the hotplug scripts' locking needs them.
ln -sf /proc/self/fd /dev/fd; ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout; ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored /run/xen-hotplug /run/lock /var/lib/xen /var/log/xen/console /var/lib/xenstored /data
mount -t tmpfs -o size=600m tmpfs /data
. /xdg/lib.sh
. /xdg/dom0-lib.sh
. /xdg/scenarios.sh

finish() {
    echo "XDG-DONE $*"
    sync
    poweroff -f
    sleep 5; echo o > /proc/sysrq-trigger
}

boot_fail() { echo "XDG-BOOT-FAIL $*"; dmesg | tail -20 | sed 's/^/DMESG| /'; finish; }

log "dom0 kernel $(uname -r) up"
for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd loop; do modprobe $m || boot_fail "modprobe $m"; done
mount -t xenfs xenfs /proc/xen || boot_fail "mount xenfs"
grep -q control_d /proc/xen/capabilities || boot_fail "not running as dom0 of a Xen hypervisor"
oxenstored --pid-file /run/xen/xenstored.pid || boot_fail "oxenstored"
i=0; while ! xenstore-read -s / > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && boot_fail "xenstored does not answer"; sleep 0.1
done
xen-init-dom0 > /dev/null || boot_fail "xen-init-dom0"
xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console || boot_fail "xenconsoled"
log "toolstack up: Xen $(xl info | sed -n 's/^xen_version *: //p'), $(xl info | sed -n 's/^free_memory *: //p') MiB free"
dmesg -n 4
dmesg -c > /dev/null
grep -q '^option early-hotplug' /xdg/plan && { EARLY_HOTPLUG=1; early_hotplug_watch & }
echo "XDG-READY"

# plan lines: unit PAIRING FRONT BACK SCENARIO MODE TIMEOUT
UNITS=$(awk '$1 == "unit" { print $2 ":" $3 ":" $4 ":" $5 ":" $6 }' /xdg/plan)
CUR_P=
for u in $UNITS; do
    set -- $(echo $u | tr : ' ')
    if [ "$1" != "$CUR_P" ]; then
        guest_kill
        P=$1 FRONT=$2 BACK=$3 CUR_P=$1 GUEST_N=0 CREATE_FAILS=0
        FRONT_PARAMS=$(awk -v k=$FRONT '$1 == "front" && $2 == k { $1 = $2 = ""; print }' /xdg/plan)
        for f in /data/*; do [ -e "$f" ] && disk_rm $f; done
        PAIR_ERR=
        if ! back_load $BACK; then
            case $BACK_ERR in rmmod*)  # a backend that will not unload: only a new boot helps
                echo "XDG-REBOOT {\"pairing\":\"$P\",\"reason\":\"$(json_str "$BACK_ERR")\"}"
                finish "reboot needed" ;;
            esac
            PAIR_ERR=$BACK_ERR
        fi
    fi
    SC=$4 MODE=$5
    echo "XDG-BEGIN {\"pairing\":\"$P\",\"scenario\":\"$SC\",\"mode\":\"$MODE\"}"
    UNIT_T0=$(uptime_s) RES_T0=$UNIT_T0 RESULTS=0
    : > /tmp/unit.dmesg; : > /tmp/unit.console
    if [ -n "$PAIR_ERR" ]; then fail "$PAIR_ERR"; else sc_$(echo $SC | tr - _) < /dev/null; fi
    [ $RESULTS -gt 0 ] || result $SC
    sed 's/^/DMESG| /' /tmp/unit.dmesg
    cat /tmp/unit.console
    echo "XDG-END {\"pairing\":\"$P\",\"scenario\":\"$SC\"}"
    # A failure may leave the guest in any state: the next unit gets a new one.
    [ -n "$GUEST_TAINTED" ] && guest_kill
    GUEST_TAINTED=
done
guest_kill
for f in /data/*; do [ -e "$f" ] && disk_rm $f; done
finish "all units run"

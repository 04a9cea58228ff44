# dom0 helpers of the scenarios: checks and results, the guest's life and its
# command channel, XenStore views of a virtual disk, backend modules.

# --- checks and results --------------------------------------------------
# A scenario calls fail/note/skip any number of times; result turns them into
# one XDG-RESULT line for the host (several per unit are allowed).
FAILS= NOTES= SKIPPED=
log() { echo "DOM0| [$(uptime_s)] $*"; }
fail() { log "FAIL: $*"; FAILS="$FAILS${FAILS:+; }$*"; }
note() { log "$*"; NOTES="$NOTES${NOTES:+; }$*"; }
skip() { log "SKIP: $*"; SKIPPED="$*"; }
json_str() { printf '%s' "$1" | tr -d '"\\' | tr '\n\t\r' '   ' | cut -c1-1800; }

BAD_KERNEL_LINES='WARNING:|BUG:|Oops|general protection|Call Trace|still in use|leak|refcount_t|list_del corruption|soft lockup|hung_task|blocked for more than'

# result NAME: report what was found since the last result.
result() {
    local name=$1 status=PASS detail t1 bad
    [ -n "$FAILS" ] && diag_all
    dmesg -c > /tmp/res.dmesg
    cat /tmp/res.dmesg >> /tmp/unit.dmesg
    bad=$(grep -E "$BAD_KERNEL_LINES" /tmp/res.dmesg | head -3)
    [ -n "$bad" ] && fail "dom0 kernel: $bad"
    con_delta > /tmp/res.console
    cat /tmp/res.console >> /tmp/unit.console
    bad=$(grep -E "$BAD_KERNEL_LINES" /tmp/res.console | grep -v 'XDG-G   ' | head -3)
    [ -n "$bad" ] && fail "guest kernel: $bad"
    if [ -n "$FAILS" ]; then
        status=FAIL; detail="$FAILS${NOTES:+ | $NOTES}"; GUEST_TAINTED=1
    elif [ -n "$SKIPPED" ]; then status=SKIP; detail="$SKIPPED${NOTES:+ | $NOTES}"
    else detail=$NOTES; fi
    t1=$(uptime_s)
    printf 'XDG-RESULT {"pairing":"%s","scenario":"%s","status":"%s","seconds":%s,"detail":"%s"}\n' \
        "$P" "$name" "$status" "$(awk "BEGIN{printf \"%.1f\", $t1 - $RES_T0}")" "$(json_str "$detail")"
    RES_T0=$t1 FAILS= NOTES= SKIPPED=
    RESULTS=$((RESULTS + 1))
}

# --- guest consoles (xenconsoled's logs) -----------------------------------
# con_delta: what every guest printed since the last call.
con_delta() {
    local f n off size
    mkdir -p /tmp/conoff
    for f in /var/log/xen/console/guest-*.log; do
        [ -e "$f" ] || continue
        n=$(basename $f .log); n=${n#guest-}
        off=$(cat /tmp/conoff/$n 2>/dev/null || echo 0)
        size=$(wc -c < $f)
        [ $size -gt $off ] && tail -c +$((off + 1)) $f | head -c $((size - off)) | sed "s/^/DOMU|$n| /"
        echo $size > /tmp/conoff/$n
    done
}

# xl_fail WHAT: an xl command failed: its output and the hotplug log to the
# log, its first error lines into the failure.
xl_fail() {
    sed 's/^/XL| /' /tmp/xl.out
    tail -15 /var/log/xen/xen-hotplug.log 2> /dev/null | sed 's/^/XL| hotplug: /'
    fail "$1 failed: $(grep -v 'destroy\|Destruction\|Non-existant' /tmp/xl.out | grep -m2 -i 'error\|fail\|timed out' | tr '\n' ' ')"
}

# --- the guest -------------------------------------------------------------
DOM= GNAME= GUEST_N=0 SEQ=0 GOUT= CREATE_FAILS=0 GUEST_TAINTED=

domid_of() { xl domid $1 2>/dev/null; }

# wait_value PATH PREFIX SECS: wait until PATH's value starts with PREFIX.
# A XenStore watch wakes us (its first event means it is registered, so a
# change cannot slip between the read and the wait); no polling.
wait_value() {
    local f=/tmp/watch.$$ line v end rc=1 wp
    rm -f $f; mkfifo $f
    xenstore-watch "$1" > $f 2> /dev/null &
    wp=$!
    # Read-write so the open never blocks (a signal during a blocking FIFO
    # open fails it), and through `command` so a failed open returns here
    # instead of ending the shell: exec is a special builtin, and this shell
    # is dom0's init.
    command exec 5<> $f || { kill $wp 2> /dev/null; rm -f $f; return 1; }
    read -t $3 line <&5
    end=$(($(uptime_int) + $3))
    while :; do
        v=$(xenstore-read "$1" 2> /dev/null)
        case "$v" in "$2"*) rc=0; break ;; esac
        [ $(uptime_int) -lt $end ] && read -t $((end - $(uptime_int) + 1)) line <&5 || break
    done
    kill $wp 2> /dev/null
    exec 5<&-
    rm -f $f
    return $rc
}

# gcall [-t SECS] STEP ARGS...: run a guest step; its output in $GOUT.
gcall() {
    local t=60 a waited=0 base
    [ "$1" = -t ] && { t=$2; shift 2; }
    SEQ=$((SEQ + 1))
    base=/local/domain/$DOM/data
    xenstore-write $base/xdg-cmd "$SEQ $*"
    until wait_value $base/xdg-ack "$SEQ " 5; do
        waited=$((waited + 5))
        if [ -z "$(domid_of $GNAME)" ]; then
            GOUT="the guest died while running '$*' (see its console)"; log "$GOUT"; return 125
        fi
        if [ $waited -ge $t ]; then
            GOUT="the guest did not finish '$*' within $t s"; log "$GOUT"; return 124
        fi
    done
    a=$(xenstore-read $base/xdg-ack)
    GOUT=$(xenstore-read $base/xdg-out 2>/dev/null)
    log "guest: $* -> rc ${a#* }: $(echo "$GOUT" | tail -1)"
    case ${a#* } in ''|*[!0-9]*) return 1 ;; esac  # `return x` would end init
    return ${a#* }
}

# guest_start [diskless]: a fresh guest with the pairing's frontend loaded.
guest_start() {
    local disk i=0
    if [ $CREATE_FAILS -ge 2 ]; then
        fail "no guest tried: the last $CREATE_FAILS guests of $P could not be created (see the first failure)"
        return 1
    fi
    GUEST_N=$((GUEST_N + 1)); GNAME=xdg-$P-$GUEST_N; SEQ=0
    [ -e /data/$P-a.img ] || truncate -s 64M /data/$P-a.img
    disk="'format=raw,vdev=xvda,access=rw,target=$(target_of /data/$P-a.img)'"
    [ "${1:-}" = diskless ] && disk=
    cat > /tmp/$GNAME.cfg <<CFG
name = "$GNAME"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 loglevel=4"
memory = 160
vcpus = 2
disk = [ $disk ]
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
    if ! timeout 90 xl create /tmp/$GNAME.cfg > /tmp/xl.out 2>&1; then
        xl_fail "xl create $GNAME"; DOM=; CREATE_FAILS=$((CREATE_FAILS + 1)); return 1
    fi
    CREATE_FAILS=0
    DOM=$(domid_of $GNAME)
    log "guest $GNAME is domain $DOM"
    until wait_value /local/domain/$DOM/data/xdg-ready 1 10; do
        i=$((i + 10))
        if [ $i -ge 120 ] || [ -z "$(domid_of $GNAME)" ]; then
            fail "guest $GNAME did not come up (see its console)"; guest_kill; return 1
        fi
    done
    log "guest $GNAME is up"
    gcall front_load $FRONT $FRONT_PARAMS || { fail "loading the $FRONT frontend: $GOUT"; return 1; }
}

guest_alive() { [ -n "$DOM" ] && [ -n "$(domid_of $GNAME)" ] && gcall -t 20 true; }

guest_ensure() { guest_alive || { guest_kill; guest_start "$@"; }; }

guest_kill() {
    [ -n "$GNAME" ] && [ -n "$(domid_of $GNAME)" ] && timeout 60 xl destroy $GNAME
    [ -n "$DOM" ] && wait_gone /local/domain/0/backend/vbd/$DOM 20
    DOM=
}

# --- XenStore views of a virtual disk ---------------------------------------
vdev() { echo $((51712 + ($(expr index abcdefghijklmnop ${1#xvd}) - 1) * 16)); }
fe_dir() { echo /local/domain/$DOM/device/vbd/$(vdev $1); }
be_dir() { echo /local/domain/0/backend/vbd/$DOM/$(vdev $1); }
xsr() { xenstore-read "$1" 2>/dev/null || echo -; }
state_name() {
    case $1 in 0) echo Unknown;; 1) echo Initialising;; 2) echo InitWait;; 3) echo Initialised;;
        4) echo Connected;; 5) echo Closing;; 6) echo Closed;; 7) echo Reconfiguring;;
        8) echo Reconfigured;; *) echo absent;; esac
}
states() { echo "fe=$(xsr $(fe_dir $1)/state) be=$(xsr $(be_dir $1)/state)"; }

# vbd_summary DEV: both ends' states and the errors they reported.
vbd_summary() {
    local fs bs e s
    fs=$(xsr $(fe_dir $1)/state); bs=$(xsr $(be_dir $1)/state)
    s="$1: frontend state $fs ($(state_name $fs)), backend state $bs ($(state_name $bs))"
    e=$(xsr /local/domain/$DOM/error/device/vbd/$(vdev $1)/error)
    [ "$e" != - ] && s="$s; frontend error: '$e'"
    e=$(xsr /local/domain/0/error/backend/vbd/$DOM/$(vdev $1)/error)
    [ "$e" != - ] && s="$s; backend error: '$e'"
    echo "$s"
}

# disk_up DEV: wait (60 s at most) for both ends to connect and the guest to
# see the disk ($GOUT: what the guest sees).  Gives up at once when an end
# reports an error or closes, with both states and errors in the failure.
disk_up() {
    local i=0 fs bs
    while [ $i -lt 60 ]; do
        fs=$(xsr $(fe_dir $1)/state); bs=$(xsr $(be_dir $1)/state)
        [ "$fs" = 4 ] && [ "$bs" = 4 ] && break
        if [ "$fs" -ge 5 ] 2> /dev/null || [ "$bs" -ge 5 ] 2> /dev/null \
            || xenstore-exists /local/domain/0/error/backend/vbd/$DOM/$(vdev $1)/error 2> /dev/null \
            || xenstore-exists /local/domain/$DOM/error/device/vbd/$(vdev $1)/error 2> /dev/null; then
            sleep 2; break
        fi
        sleep 1; i=$((i + 1))
    done
    if [ "$(xsr $(fe_dir $1)/state)" != 4 ] || ! gcall disk_wait $1 20; then
        fail "$1 never appeared in the guest: $(vbd_summary $1)"; diag $1; return 1
    fi
}

# diag DEV: dump both ends' XenStore directories and error nodes to the log.
diag() {
    log "diagnostics of $1 (domain $DOM)"
    for d in $(fe_dir $1) $(be_dir $1) /local/domain/$DOM/error /local/domain/0/error; do
        xenstore-ls -f $d 2>/dev/null | sed 's/^/XS| /'
    done
}

# diag_all: after a failure, every virtual disk of the guest, both ends, the
# backend's interrupts and dom0's blocked tasks (into dmesg).
diag_all() {
    grep -i 'xbb\|blkif' /proc/interrupts | sed 's/^/IRQ| /'
    echo w > /proc/sysrq-trigger 2> /dev/null
    [ -n "$DOM" ] || return 0
    for d in /local/domain/$DOM/device/vbd /local/domain/0/backend/vbd/$DOM /local/domain/$DOM/error \
        /local/domain/0/error/backend/vbd/$DOM; do
        xenstore-ls -f $d 2>/dev/null | sed 's/^/XS| /'
    done
}

wait_gone() {  # wait_gone PATH SECS
    local i=0
    while xenstore-exists "$1" 2> /dev/null; do
        [ $i -ge $(($2 * 4)) ] && return 1
        sleep 0.25; i=$((i + 1))
    done
}

wait_state() { wait_value "$@"; }  # wait_state PATH STATE SECS

# negotiated DEV: the features both ends settled on, as XenStore shows them.
negotiated() {
    local f=$(fe_dir $1) b=$(be_dir $1)
    echo "ring-page-order=$(xsr $f/ring-page-order) queues=$(xsr $f/multi-queue-num-queues)" \
         "persistent=$(xsr $b/feature-persistent)/$(xsr $f/feature-persistent)" \
         "indirect=$(xsr $b/feature-max-indirect-segments) discard=$(xsr $b/feature-discard)" \
         "flush=$(xsr $b/feature-flush-cache)"
}

# backend_stat DEV NAME: a counter of the stock backend's sysfs statistics.
backend_stat() {
    cat /sys/bus/xen-backend/devices/vbd-$DOM-$(vdev $1)/statistics/$2 2>/dev/null || echo -
}

# --- data checks in the backing file ------------------------------------------
# backing FILE SEED OFF LEN: the guest's writes reached the backing file.
backing() {
    local why
    why=$(same_as_pattern "$@") || fail "backing file: $why"
}

# --- disk targets -----------------------------------------------------------------
# Normally xl gets the backing file and libxl's hotplug script sets up a loop
# device once the backend is in InitWait.  With the plan's early-hotplug
# option, dom0 sets up the loop device itself and a watcher writes the
# backend's physical-device as soon as libxl creates the backend directory:
# a backend that waits for physical-device before InitWait (which deadlocks
# with libxl) can then still be tested.
target_of() {  # target_of FILE: what xl is given for a disk backed by FILE
    local m=/tmp/loops/$(basename $1)
    [ "$EARLY_HOTPLUG" = 1 ] || { echo $1; return; }
    mkdir -p /tmp/loops
    [ -s $m ] || /usr/sbin/losetup -f --show $1 > $m
    cat $m
}

disk_rm() {  # disk_rm FILE: drop the file and its loop device
    local m=/tmp/loops/$(basename $1)
    [ -s $m ] && /usr/sbin/losetup -d $(cat $m) 2> /dev/null
    rm -f $m $1
}

early_hotplug_watch() {
    local path d p
    xenstore-watch /local/domain/0/backend/vbd 2> /dev/null | while read -r path; do
        case $path in */params) ;; *) continue ;; esac
        d=${path%/params}; p=$(xenstore-read $path 2> /dev/null)
        [ -b "$p" ] && ! xenstore-exists $d/physical-device 2> /dev/null || continue
        xenstore-write $d/physical-device "$(/usr/bin/stat -L -c '%t:%T' $p)"
        echo "DOM0| early hotplug: $d/physical-device for $p"
    done
}

# --- backend modules ------------------------------------------------------------
# back_load KIND [PARAM=VALUE ...]: (re)load the stock or our xen-blkback.
back_load() {
    local kind=$1; shift
    if grep -q '^xen_blkback ' /proc/modules; then
        rmmod xen_blkback 2> /tmp/rmmod.err || { BACK_ERR="rmmod xen_blkback: $(cat /tmp/rmmod.err)"; return 1; }
    fi
    case $kind in
        stock) modprobe xen-blkback "$@" ;;
        ours) insmod /xdg/back/ours/xen-blkback.ko "$@" ;;
    esac 2> /tmp/insmod.err || { BACK_ERR="loading the $kind xen-blkback $*: $(cat /tmp/insmod.err)"; return 1; }
    log "backend: the $kind xen-blkback $*"
}

# knob BACK FEATURE: how the plan says to switch FEATURE off in backend BACK.
knob() { awk -v b=$1 -v f=$2 '$1 == "knob" && $2 == b && $3 == f { print $4 }' /xdg/plan; }

# The scenarios, run by dom0: sc_<name> for each row of xendrvgen's scenario
# table (xendrvgen/interop/scenarios.py).  Each drives the guest through gcall,
# checks what it needs with fail/note/skip, and may call `result NAME` itself
# (features-off reports one result per feature); otherwise the runner does.
# In scope: $P (pairing), $FRONT and $BACK (stock|ours), $MODE (strict|lenient),
# $DOM and $GNAME (the current guest).

A() { echo /data/$P-a.img; }   # the guest's boot disk, xvda (64 MiB)

# Attach a disk to the running guest and wait until the guest sees it.
hot_attach() {  # hot_attach DEV TARGET [EXTRA]
    # target= must come last: it takes the rest of the spec, commas and all.
    if ! timeout 60 xl block-attach $DOM "format=raw,vdev=$1,access=rw,${3:+$3,}target=$2" > /tmp/xl.out 2>&1; then
        xl_fail "xl block-attach $1"; return 1
    fi
    disk_up $1
}

# Detach a disk and check both ends are gone.
hot_detach() {  # hot_detach DEV
    local t0=$(uptime_int)
    timeout 60 xl block-detach $DOM $1 > /tmp/xl.out 2>&1 || xl_fail "xl block-detach $1"
    grep -qi 'timeout\|forced' /tmp/xl.out && fail "xl block-detach $1 needed a forced removal: $(tail -2 /tmp/xl.out)"
    gcall disk_gone $1 30 || fail "$1 still present in the guest after the detach"
    wait_gone $(be_dir $1) 15 || fail "backend directory of $1 left in XenStore: $(vbd_summary $1)"
    wait_gone $(fe_dir $1) 15 || fail "frontend directory of $1 left in XenStore"
    log "detached $1 in $(($(uptime_int) - t0)) s"
}

# Write, read back in the guest and check the backing file, for each region
# OFF:LEN:BS:FLAGS given (FLAGS: direct or -).
rw_check() {  # rw_check DEV FILE SEED REGION...
    local dev=$1 file=$2 seed=$3 r; shift 3
    gcall -t 150 wr_many $dev $seed "$@" || { fail "write: $GOUT"; return 1; }
    gcall -t 150 rd_many $dev $seed "$@" || fail "read-back in the guest: $GOUT"
    for r in "$@"; do backing $file $seed $(echo $r | cut -d: -f1-2 | tr : ' '); done
}

sc_attach_rw() {
    local info last
    guest_ensure || return
    disk_up xvda || return
    info=$GOUT
    note "$info; $(negotiated xvda)"
    case "$info" in *size=131072\ *) ;; *) fail "guest sees $info, expected size=131072 sectors" ;; esac
    last=$((64 * MiB - 512))
    # OFF LEN BS FLAGS: small, sector-unaligned, 4 MiB direct (indirect
    # requests), buffered, and the last sector of the disk.
    rw_check xvda $(A) 11 0:4096:4096:- 12800:1536:512:- $MiB:$((4 * MiB)):$MiB:direct \
        $((9 * MiB + 4096)):$((MiB - 8192)):65536:- $last:512:512:direct || return
    case "$info" in *max_segs=11\ *) fail "indirect requests not negotiated (max_segs=11): large I/O never used them" ;; esac
    # Parallel I/O from four processes on both vcpus: several queues when negotiated.
    gcall -t 300 par_io xvda 20 4 $((16 * MiB)) $((2 * MiB)) 262144 || fail "parallel I/O: $GOUT"
    for i in 0 1 2 3; do backing $(A) $((20 + i)) $((16 * MiB + i * 2 * MiB)) $((2 * MiB)); done
}

sc_hot_detach() {
    local b=/data/$P-b.img
    guest_ensure || return
    truncate -s 32M $b
    hot_attach xvdb $(target_of $b) || return
    rw_check xvdb $b 31 0:$((2 * MiB)):$MiB:direct $((32 * MiB - 4096)):4096:4096:direct
    hot_detach xvdb
    disk_rm $b
}

sc_sector4k() {
    local f=/data/$P-4k.img l info
    guest_ensure || return
    truncate -s 16M $f
    # util-linux's losetup: busybox's applet (which the shell prefers) has no --sector-size
    l=$(/usr/sbin/losetup --sector-size 4096 -f --show $f 2> /tmp/losetup.err) \
        || { fail "losetup --sector-size 4096: $(cat /tmp/losetup.err)"; return; }
    hot_attach xvdd $l || { /usr/sbin/losetup -d $l; return; }
    info=$GOUT
    note "$info; backend sector-size=$(xsr $(be_dir xvdd)/sector-size) sectors=$(xsr $(be_dir xvdd)/sectors)"
    case "$info" in *lbs=4096\ *) ;; *) fail "guest logical block size is not 4096: $info" ;; esac
    case "$info" in *size=32768\ *) ;; *) fail "guest size is not 32768 512-byte sectors (16 MiB): $info" ;; esac
    rw_check xvdd $f 41 0:4096:4096:direct 12288:8192:4096:direct $((4 * MiB)):$((2 * MiB)):$MiB:direct \
        $((16 * MiB - 4096)):4096:4096:direct
    hot_detach xvdd
    /usr/sbin/losetup -d $l
    rm -f $f
}

sc_discard_flush() {
    local info off=$((40 * MiB)) fb fa db da
    guest_ensure || return
    disk_up xvda || return
    info=$GOUT
    note "backend feature-discard=$(xsr $(be_dir xvda)/feature-discard) discard-granularity=$(xsr $(be_dir xvda)/discard-granularity) feature-flush-cache=$(xsr $(be_dir xvda)/feature-flush-cache); guest $info"
    rw_check xvda $(A) 51 $off:$((4 * MiB)):$MiB:direct
    db=$(backend_stat xvda ds_req)
    if [ "$(xsr $(be_dir xvda)/feature-discard)" = 1 ]; then
        case "$info" in *discard_max=0\ *) fail "backend offers discard but the guest disk has none" ;; esac
        gcall discard xvda $((off + MiB)) $((2 * MiB)) || fail "blkdiscard: $GOUT"
        gcall zeros xvda $((off + MiB)) $((2 * MiB)); note "discarded range reads as zeros in the guest: ${GOUT#zeros=}"
        is_zero $(A) $((off + MiB)) $((2 * MiB)) && note "and in the backing file: yes" || note "and in the backing file: no"
        # Around the discarded range nothing may change.
        gcall rd xvda 51 $off $MiB direct || fail "data before the discarded range: $GOUT"
        gcall rd xvda 51 $((off + 3 * MiB)) $MiB direct || fail "data after the discarded range: $GOUT"
        backing $(A) 51 $off $MiB
        backing $(A) 51 $((off + 3 * MiB)) $MiB
        da=$(backend_stat xvda ds_req)
        [ "$db" != - ] && [ "$da" -le "$db" ] && fail "the backend counted no discard request ($db -> $da)"
    else
        note "backend offers no discard"
    fi
    fb=$(backend_stat xvda f_req)
    gcall flush xvda $((off + 5 * MiB)) || fail "write + fsync + sync: $GOUT"
    backing $(A) 81 $((off + 5 * MiB)) 4096
    fa=$(backend_stat xvda f_req)
    if [ "$(xsr $(be_dir xvda)/feature-flush-cache)" = 1 ]; then
        case "$info" in *cache=write_through*) fail "backend offers flush but the guest disk is write-through: flushes never reach it" ;; esac
        [ "$fb" != - ] && [ "$fa" -le "$fb" ] && fail "the backend counted no flush request ($fb -> $fa)"
    fi
    [ "$fb" != - ] && note "backend flush requests $fb -> $fa, discard requests $db -> ${da:-$db}"
}

sc_save_restore() {
    local n0 n1 st i out=/data/$P.save t0 ts tr
    guest_ensure || return
    disk_up xvda || return
    # The writer cycles over 40 MiB from 24 MiB in 256 KiB blocks, each written
    # O_DIRECT and read back; a block counts as done only when both succeeded.
    gcall bw_start xvda 61 $((24 * MiB)) 262144 160
    i=0; n0=0
    while [ $i -lt 60 ]; do
        gcall bw_status; n0=$(echo "$GOUT" | sed -n 's/.*done=\([0-9]*\).*/\1/p')
        [ "${n0:-0}" -ge 3 ] && break
        sleep 1; i=$((i + 1))
    done
    [ "${n0:-0}" -ge 3 ] || { fail "the guest's writer made no progress: $GOUT"; return; }
    t0=$(uptime_int)
    if ! timeout 240 xl save $GNAME $out > /tmp/xl.out 2>&1; then
        xl_fail "xl save"; DOM=; return
    fi
    ts=$(($(uptime_int) - t0)); t0=$(uptime_int)
    if ! timeout 240 xl restore $out > /tmp/xl.out 2>&1; then
        xl_fail "xl restore"; DOM=; rm -f $out; return
    fi
    tr=$(($(uptime_int) - t0))
    rm -f $out
    DOM=$(domid_of $GNAME)
    note "save ${ts}s, restore ${tr}s, now domain $DOM, $n0 blocks done before the save"
    gcall -t 90 true || { fail "guest does not answer after the restore: $(vbd_summary xvda)"; diag xvda; return; }
    if wait_state $(fe_dir xvda)/state 4 30; then
        # I/O must go on after the restore.
        t0=$(uptime_int)
        while [ $(($(uptime_int) - t0)) -lt 60 ]; do
            gcall bw_status || { fail "writer errors after the restore: $GOUT"; break; }
            n1=$(echo "$GOUT" | sed -n 's/.*done=\([0-9]*\).*/\1/p')
            [ "${n1:-0}" -ge $((n0 + 5)) ] && break
            sleep 2
        done
        [ "${n1:-0}" -ge $((n0 + 5)) ] || fail "no I/O progress after the restore ($n0 -> ${n1:-?} blocks): $(vbd_summary xvda)"
    else
        fail "disk not reconnected after the restore: $(vbd_summary xvda)"; diag xvda
    fi
    gcall -t 60 bw_stop || fail "writer: $GOUT"
    st=$(echo "$GOUT" | sed -n 's/.*distinct=\([0-9]*\).*/\1/p')
    note "writer: $(echo "$GOUT" | head -1)"
    if [ "${st:-0}" -gt 0 ]; then
        gcall -t 180 rd xvda 61 $((24 * MiB)) $((st * 262144)) direct || fail "read-back after the restore: $GOUT"
        backing $(A) 61 $((24 * MiB)) $((st * 262144))
    fi
}

detach_wait() {  # detach_wait SECS: until the background xl block-detach has ended
    local t0=$(uptime_int)
    while [ ! -e /tmp/detach.rc ] && [ $(($(uptime_int) - t0)) -lt $1 ]; do sleep 1; done
    [ -e /tmp/detach.rc ]
}

# A detach of a mounted disk: the frontend refuses to close while it is in
# use (it stays Closing and I/O goes on), so the toolstack's detach gives up
# after its timeout (libxl: about 10 s) or is still waiting, and never forces
# it.  Once the file system is unmounted both ends go Closed by themselves,
# and a second detach removes the device at once.
sc_detach_open() {
    local c=/data/$P-c.img s t0 pend=0 seen5fe=0 seen5be=0 ok0 ok1 err1 rc=hung trace=
    guest_ensure || return
    truncate -s 32M $c
    hot_attach xvdc $(target_of $c) || return
    gcall hold_start xvdc || { fail "mounting a file system on xvdc: $GOUT"; hot_detach xvdc; return; }
    sleep 1
    gcall hold_status; ok0=$(echo "$GOUT" | sed -n 's/^ok=\([0-9]*\).*/\1/p')
    rm -f /tmp/detach.rc
    (timeout 60 xl block-detach $DOM xvdc > /tmp/detach.out 2>&1; echo $? > /tmp/detach.rc) &
    # Both ends in Closing, by the clock (TCG makes every step slow).
    t0=$(uptime_int)
    while [ $(($(uptime_int) - t0)) -lt 8 ]; do
        s=$(states xvdc); trace="$trace ${s}"
        case $s in *fe=5*) seen5fe=1 ;; esac
        case $s in *be=5*) seen5be=1 ;; esac
        [ $seen5fe = 1 ] && [ $seen5be = 1 ] && break
        [ -e /tmp/detach.rc ] && break
        sleep 0.5
    done
    # The toolstack gives up (or is still waiting): wait up to 60 s for it.
    detach_wait 60 && rc=$(cat /tmp/detach.rc) || pend=1
    s=$(states xvdc)
    gcall hold_status; ok1=$(echo "$GOUT" | sed -n 's/^ok=\([0-9]*\).*/\1/p')
    err1=$(echo "$GOUT" | sed -n 's/.*err=\([0-9]*\).*/\1/p')
    note "while mounted: first detach rc=$rc (pending=$pend), states$trace, then $s; I/O ok ${ok0:-?} -> ${ok1:-?}, errors ${err1:-?}"
    if [ $MODE = strict ]; then
        [ "$rc" = 0 ] && fail "the detach completed while the disk was mounted (the frontend must stay in Closing until it is closed): $(tail -1 /tmp/detach.out)"
        grep -qi 'forced' /tmp/detach.out && fail "the detach forced the removal: $(tail -2 /tmp/detach.out)"
        [ $seen5fe = 1 ] || fail "the frontend never went to Closing (5) while the disk was open"
        [ $seen5be = 1 ] || fail "the backend never went to Closing (5)"
        case $s in *fe=5*) ;; *) fail "the frontend left Closing while the disk was still mounted ($s)" ;; esac
        [ "${err1:-1}" = 0 ] && [ "${ok1:-0}" -gt "${ok0:-0}" ] || fail "I/O did not keep succeeding while the disk was mounted"
    fi
    gcall hold_stop xvdc || fail "unmount after the detach: $GOUT"
    if [ "$rc" = 0 ]; then
        # The frontend closed the disk under its user (Linux 6.1's own marks
        # it dead and closes): the device is gone; strict mode failed above.
        note "the frontend closed the disk while it was mounted; the detach completed"
    elif [ $pend = 1 ]; then
        detach_wait 60 && rc=$(cat /tmp/detach.rc) || rc=hung
        [ "$rc" = 0 ] || fail "the pending detach did not complete after the unmount (rc $rc): $(tail -2 /tmp/detach.out)"
    else
        # Released: the frontend finishes its close, and the backend follows.
        wait_state $(fe_dir xvdc)/state 6 30 ||
            fail "the frontend did not go Closed once the disk was unmounted: $(vbd_summary xvdc)"
        wait_state $(be_dir xvdc)/state 6 30 ||
            fail "the backend did not go Closed after the frontend did: $(vbd_summary xvdc)"
        timeout 60 xl block-detach $DOM xvdc > /tmp/detach.out 2>&1 ||
            fail "the second detach, after the unmount, failed: $(tail -2 /tmp/detach.out)"
    fi
    gcall disk_gone xvdc 30 || fail "xvdc still present in the guest"
    wait_gone $(be_dir xvdc) 15 || fail "backend directory of xvdc left in XenStore: $(vbd_summary xvdc)"
    wait_gone $(fe_dir xvdc) 15 || fail "frontend directory of xvdc left in XenStore"
    guest_alive || fail "the guest no longer answers after the detach"
    disk_rm $c
}

# No leak after a guest is gone: no backend directory, no zombie domain (a
# domain whose pages dom0 still maps through grants cannot die), and the
# backend module unloads.
after_guest_gone() {  # after_guest_gone DOMID WHAT
    wait_gone /local/domain/0/backend/vbd/$1 20 || fail "$2: backend directories left: $(xenstore-list /local/domain/0/backend/vbd/$1 | tr '\n' ' ')"
    local i=0
    while xl list | grep -q '(null)'; do
        [ $i -ge 10 ] && { fail "$2: zombie domain left (its grants are still mapped): $(xl list | grep null)"; xl debug-keys g; break; }
        sleep 1; i=$((i + 1))
    done
}

sc_shutdown_cleanup() {
    local d
    guest_ensure || return
    disk_up xvda
    gcall -t 60 wr xvda 71 0 $MiB $MiB direct || fail "write before the shutdown: $GOUT"
    d=$DOM
    if timeout 120 xl shutdown -w $GNAME > /tmp/xl.out 2>&1; then
        note "xl shutdown done"
    else
        xl_fail "xl shutdown"; timeout 30 xl destroy $GNAME
    fi
    DOM=
    after_guest_gone $d "after xl shutdown"
    backing $(A) 71 0 $MiB
    # Now a destroy in the middle of I/O.
    guest_start || return
    disk_up xvda
    gcall bw_start xvda 72 $((8 * MiB)) 262144 32
    sleep 3
    d=$DOM
    timeout 60 xl destroy $GNAME || fail "xl destroy failed"
    DOM=
    after_guest_gone $d "after xl destroy"
    back_load $BACK || fail "backend module after the guests: $BACK_ERR"
}

sc_features_off() {
    local feat k f=/data/$P-f.img info extra
    guest_kill
    guest_start diskless || return
    for feat in persistent indirect multi-queue ring discard flush; do
        k=$(knob $BACK $feat)
        case $k in
            param:*) back_load $BACK ${k#param:} || { fail "$BACK_ERR"; result features-off/$feat; continue; } ;;
            xl:*) back_load $BACK || { fail "$BACK_ERR"; result features-off/$feat; continue; } ;;
            *) skip "no module parameter of the $BACK xen-blkback turns $feat off"; result features-off/$feat; continue ;;
        esac
        truncate -s 16M $f
        case $k in xl:*) extra=${k#xl:} ;; *) extra= ;; esac
        if hot_attach xvdf $(target_of $f) $extra; then
            info=$GOUT
            note "${k#*:}: $(negotiated xvdf); guest $info"
            case $feat in
                persistent) [ "$(xsr $(be_dir xvdf)/feature-persistent)" != 1 ] || fail "backend still offers feature-persistent" ;;
                indirect) case "$(xsr $(be_dir xvdf)/feature-max-indirect-segments)" in -|0) ;;
                              *) fail "backend still offers feature-max-indirect-segments" ;; esac
                          case "$info" in *max_segs=11\ *) ;; *) fail "guest uses more than 11 segments without indirect" ;; esac ;;
                multi-queue) case "$(xsr $(be_dir xvdf)/multi-queue-max-queues)" in -|1) ;; *) fail "backend still offers several queues" ;; esac
                             case "$(xsr $(fe_dir xvdf)/multi-queue-num-queues)" in -|1) ;; *) fail "frontend uses several queues anyway" ;; esac ;;
                ring) case "$(xsr $(be_dir xvdf)/max-ring-page-order)" in -|0) ;; *) fail "backend still offers a multi-page ring" ;; esac
                      [ "$(xsr $(fe_dir xvdf)/ring-ref)" != - ] || [ "$(xsr $(fe_dir xvdf)/queue-0/ring-ref)" != - ] \
                          || fail "frontend did not fall back to a one-page ring (no ring-ref)" ;;
                discard) [ "$(xsr $(be_dir xvdf)/feature-discard)" != 1 ] || fail "backend still offers feature-discard"
                         case "$info" in *discard_max=0\ *) ;; *) fail "guest disk still has discard" ;; esac ;;
            esac
            rw_check xvdf $f $((90 + ${#feat})) 0:$((2 * MiB)):$MiB:direct $((16 * MiB - 512)):512:512:-
            hot_detach xvdf
        fi
        disk_rm $f
        result features-off/$feat
    done
    guest_kill
    back_load $BACK || fail "$BACK_ERR"
}

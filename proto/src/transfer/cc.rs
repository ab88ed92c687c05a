//! The sender's rate control: RTT estimate, a BBR-like bandwidth model and the pacer.
//! (See the module doc of [`super`] for why BBR-like.)

use crate::time::{Duration, Instant};

/// Smoothed RTT (RFC 6298 weights) and the windowed minimum.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rtt {
    pub(super) srtt: Duration,
    rttvar: Duration,
    pub(super) latest: Duration,
    min: Duration,
    min_stamp: Instant,
    measured: bool,
}

/// How long a minimum RTT stays valid.
const MIN_RTT_WINDOW: Duration = Duration::from_secs(10);

impl Rtt {
    pub(super) fn new(initial: Duration) -> Self {
        Rtt {
            srtt: initial,
            rttvar: Duration::from_micros(initial.as_micros() / 2),
            latest: initial,
            min: initial,
            min_stamp: Instant::ZERO,
            measured: false,
        }
    }

    pub(super) fn sample(&mut self, now: Instant, rtt: Duration) {
        let rtt = rtt.max(Duration::from_micros(1));
        self.latest = rtt;
        if !self.measured {
            self.measured = true;
            self.srtt = rtt;
            self.rttvar = Duration::from_micros(rtt.as_micros() / 2);
            self.min = rtt;
            self.min_stamp = now;
            return;
        }
        let diff = self.srtt.as_micros().abs_diff(rtt.as_micros());
        self.rttvar = Duration::from_micros((3 * self.rttvar.as_micros() + diff) / 4);
        self.srtt = Duration::from_micros((7 * self.srtt.as_micros() + rtt.as_micros()) / 8);
        if rtt <= self.min || now.saturating_since(self.min_stamp) > MIN_RTT_WINDOW {
            self.min = rtt;
            self.min_stamp = now;
        }
    }

    /// Probe timeout before backoff: srtt + 4·rttvar (at least 1 ms) + the peer's ack delay.
    pub(super) fn pto(&self, ack_delay: Duration) -> Duration {
        let var = Duration::from_micros(4 * self.rttvar.as_micros()).max(Duration::from_millis(1));
        self.srtt + var + ack_delay
    }

    /// How long after it was sent a chunk counts as lost once a later one was
    /// acknowledged: an RTT plus room for reordering (RACK's time threshold).
    pub(super) fn reorder_window(&self) -> Duration {
        let rtt = self.srtt.max(self.latest);
        let slack = Duration::from_micros(2 * self.rttvar.as_micros())
            .max(Duration::from_micros(self.min.as_micros() / 4));
        rtt + slack
    }

    /// The RTT's mean deviation.
    pub(super) fn variation(&self) -> Duration {
        self.rttvar
    }

    pub(super) fn srtt(&self) -> Duration {
        self.srtt
    }

    pub(super) fn min_rtt(&self) -> Duration {
        self.min
    }
}

/// Round trips the bandwidth maximum covers.
const BW_WINDOW: usize = 10;
/// Startup pacing and window gain (2/ln 2), in 1/1000.
const STARTUP_GAIN: u64 = 2885;
/// Probe cycle gains, in 1/1000.
const CYCLE: [u64; 8] = [1250, 750, 1000, 1000, 1000, 1000, 1000, 1000];
/// Window gain in steady state, in 1/1000.
const CWND_GAIN: u64 = 2000;
/// Floor of the congestion window in chunks.
const MIN_CWND_CHUNKS: u64 = 32;
/// Pacer bursts of extra window. Hosts move datagrams in batches (a burst of chunks in
/// one send, a batch of received chunks acknowledged together), so acknowledgements
/// come in bunches and the ack clock is coarser than the minimum RTT; with a window of
/// only twice the bandwidth-delay product, a path whose minimum RTT is tens of
/// microseconds (loopback, a LAN) would stall between bunches. Like the quantization
/// budget and ack-aggregation term of Linux BBR, this adds a few bursts (1 ms of data
/// each, at least 16 chunks): a queue of a few milliseconds at most.
const BATCHING_ALLOWANCE: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Startup,
    Drain,
    ProbeBw { phase: usize, since: Instant },
}

/// A BBR-like model: bottleneck bandwidth (windowed max of delivery rates) × min RTT.
#[derive(Debug, Clone)]
pub(super) struct Bbr {
    mode: Mode,
    /// `(round, bytes/s)`: the best sample of each of the last rounds.
    bw: [(u64, u64); BW_WINDOW],
    round: u64,
    full_bw: u64,
    full_bw_rounds: u8,
    chunk: u64,
    initial_rate: u64,
    /// Bytes sent and declared lost in the current round.
    round_sent: u64,
    round_lost: u64,
    /// Smallest RTT sample of the current round.
    round_min_rtt: Option<Duration>,
    /// Loss rate, smoothed over rounds, in 1/1000.
    loss: u64,
    /// The last round's RTT stayed above the minimum: a queue is building.
    queueing: bool,
    /// Consecutive rounds with `queueing`.
    queued_rounds: u8,
}

/// Largest loss rate the pacing compensates for, in 1/1000.
const MAX_COMPENSATED_LOSS: u64 = 350;

impl Bbr {
    pub(super) fn new(chunk: u64, initial_rtt: Duration) -> Self {
        let rtt = initial_rtt.as_micros().max(1);
        Bbr {
            mode: Mode::Startup,
            bw: [(0, 0); BW_WINDOW],
            round: 0,
            full_bw: 0,
            full_bw_rounds: 0,
            chunk,
            initial_rate: MIN_CWND_CHUNKS * chunk * 1_000_000 / rtt,
            round_sent: 0,
            round_lost: 0,
            round_min_rtt: None,
            loss: 0,
            queueing: false,
            queued_rounds: 0,
        }
    }

    pub(super) fn on_sent(&mut self, bytes: u64) {
        self.round_sent += bytes;
    }

    pub(super) fn on_lost(&mut self, bytes: u64) {
        self.round_lost += bytes;
    }

    pub(super) fn on_rtt(&mut self, rtt: Duration) {
        self.round_min_rtt = Some(self.round_min_rtt.map_or(rtt, |m| m.min(rtt)));
    }

    /// A round trip ended: fold its loss rate and queueing signal in.
    fn end_round(&mut self, rtt: &Rtt) {
        if self.round_sent > 0 {
            let lost = mul_div(self.round_lost.min(self.round_sent), 1000, self.round_sent);
            self.loss = (3 * self.loss + lost) / 4;
        }
        // The round's smallest RTT sits well above the minimum (by more than the RTT's
        // usual variation): a queue is building.
        let base = rtt.min_rtt();
        let slack = Duration::from_micros(base.as_micros() / 4)
            .max(rtt.variation().saturating_mul(2))
            .max(Duration::from_millis(1));
        let queueing = self.round_min_rtt.is_some_and(|r| r > base + slack);
        self.queued_rounds = if queueing {
            self.queued_rounds.saturating_add(1)
        } else {
            0
        };
        self.queueing = queueing;
        self.round_sent = 0;
        self.round_lost = 0;
        self.round_min_rtt = None;
    }

    /// Random loss lowers the delivery rate of what the path carries; pace for the
    /// path, not for what arrived — unless the RTT says a queue is building.
    fn compensate(&self, v: u64) -> u64 {
        if self.queueing {
            return v;
        }
        let loss = self.loss.min(MAX_COMPENSATED_LOSS);
        mul_div(v, 1000, 1000 - loss)
    }

    /// Loss rate over the last rounds, in 1/1000.
    pub(super) fn loss_permille(&self) -> u64 {
        self.loss
    }

    /// Bottleneck bandwidth estimate, bytes per second (0 before any sample).
    pub(super) fn bandwidth(&self) -> u64 {
        self.bw
            .iter()
            .filter(|(r, _)| r + BW_WINDOW as u64 > self.round)
            .map(|&(_, b)| b)
            .max()
            .unwrap_or(0)
    }

    /// An ack: a delivery-rate sample if it was valid; `round_start` when a round trip
    /// ended with this ack.
    pub(super) fn on_ack(&mut self, now: Instant, rate: Option<u64>, round_start: bool, rtt: &Rtt) {
        if round_start {
            self.end_round(rtt);
            self.round += 1;
            self.bw[(self.round % BW_WINDOW as u64) as usize] = (self.round, 0);
            self.check_full_bw();
        }
        self.advance_cycle(now, rtt);
        let Some(rate) = rate else {
            return;
        };
        let slot = &mut self.bw[(self.round % BW_WINDOW as u64) as usize];
        if slot.0 == self.round {
            slot.1 = slot.1.max(rate);
        } else {
            *slot = (self.round, rate);
        }
    }

    fn check_full_bw(&mut self) {
        if self.mode != Mode::Startup {
            return;
        }
        let bw = self.bandwidth();
        if self.queued_rounds >= 2 && bw > 0 {
            self.mode = Mode::Drain;
        } else if bw >= self.full_bw.saturating_mul(5) / 4 {
            self.full_bw = bw;
            self.full_bw_rounds = 0;
        } else {
            self.full_bw_rounds += 1;
            if self.full_bw_rounds >= 3 {
                self.mode = Mode::Drain;
            }
        }
    }

    /// Called with the bytes in flight after each ack.
    pub(super) fn on_inflight(&mut self, now: Instant, inflight: u64, rtt: &Rtt) {
        if self.mode == Mode::Drain && inflight <= self.bdp(rtt) {
            self.mode = Mode::ProbeBw {
                phase: 0,
                since: now,
            };
        }
    }

    fn advance_cycle(&mut self, now: Instant, rtt: &Rtt) {
        if let Mode::ProbeBw { phase, since } = self.mode {
            if now.saturating_since(since) >= rtt.min_rtt() {
                self.mode = Mode::ProbeBw {
                    phase: (phase + 1) % CYCLE.len(),
                    since: now,
                };
            }
        }
    }

    fn bdp(&self, rtt: &Rtt) -> u64 {
        mul_div(self.bandwidth(), rtt.min_rtt().as_micros(), 1_000_000)
    }

    fn gains(&self) -> (u64, u64) {
        match self.mode {
            Mode::Startup => (STARTUP_GAIN, STARTUP_GAIN),
            Mode::Drain => (1_000_000 / STARTUP_GAIN, STARTUP_GAIN),
            Mode::ProbeBw { phase, .. } => (CYCLE[phase], CWND_GAIN),
        }
    }

    /// Pacing rate in bytes per second.
    pub(super) fn pacing_rate(&self) -> u64 {
        let bw = self.bandwidth();
        if bw == 0 {
            return self.initial_rate;
        }
        self.compensate(mul_div(bw, self.gains().0, 1000))
            .max(self.chunk)
    }

    /// Most bytes in flight: the window gain times the bandwidth-delay product, plus
    /// room for batching (see [`BATCHING_ALLOWANCE`]).
    pub(super) fn cwnd(&self, rtt: &Rtt) -> u64 {
        let floor = MIN_CWND_CHUNKS * self.chunk;
        if self.bandwidth() == 0 {
            return floor;
        }
        let batching = BATCHING_ALLOWANCE * Pacer::capacity(self.pacing_rate(), self.chunk);
        self.compensate(mul_div(self.bdp(rtt), self.gains().1, 1000))
            .saturating_add(batching)
            .max(floor)
    }
}

/// `a * b / c` without overflow (saturating).
pub(super) fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    let v = u128::from(a) * u128::from(b) / u128::from(c.max(1));
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// Token bucket: chunks leave at the pacing rate, in bursts of up to 1 ms (≥ 16 chunks).
#[derive(Debug, Clone, Copy)]
pub(super) struct Pacer {
    tokens: u64,
    last: Instant,
}

impl Pacer {
    /// A pacer that may send an initial burst of 16 chunks.
    pub(super) fn new(now: Instant, chunk: u64) -> Self {
        Pacer {
            tokens: 16 * chunk,
            last: now,
        }
    }

    fn capacity(rate: u64, chunk: u64) -> u64 {
        (rate / 1000).max(16 * chunk)
    }

    fn refill(&mut self, now: Instant, rate: u64, chunk: u64) {
        let dt = now.saturating_since(self.last).as_micros();
        self.last = now;
        // Chunks of one burst share a clock reading (nothing to add), and the 64-bit
        // product covers any rate below 18 TB/s over a second: the 128-bit division is
        // for the rest.
        let add = match rate.checked_mul(dt) {
            Some(v) => v / 1_000_000,
            None => mul_div(rate, dt, 1_000_000),
        };
        self.tokens = self
            .tokens
            .saturating_add(add)
            .min(Self::capacity(rate, chunk));
    }

    /// `None` if `len` bytes may go now, else when they may.
    pub(super) fn ready(
        &mut self,
        now: Instant,
        rate: u64,
        chunk: u64,
        len: u64,
    ) -> Option<Instant> {
        self.refill(now, rate, chunk);
        if self.tokens >= len {
            return None;
        }
        let missing = len - self.tokens;
        let rate = rate.max(1);
        let wait = (u128::from(missing) * 1_000_000).div_ceil(u128::from(rate));
        let wait = u64::try_from(wait).unwrap_or(u64::MAX).max(1);
        Some(now + Duration::from_micros(wait))
    }

    pub(super) fn spend(&mut self, len: u64) {
        self.tokens = self.tokens.saturating_sub(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: u64 = 1150;

    /// A model that measured `rate` bytes/s over a path whose minimum RTT is `min_rtt`.
    fn measured(rate: u64, min_rtt: Duration) -> (Bbr, Rtt) {
        let now = Instant::ZERO + Duration::from_secs(1);
        let mut rtt = Rtt::new(Duration::from_millis(100));
        rtt.sample(now, min_rtt);
        let mut bbr = Bbr::new(CHUNK, Duration::from_millis(100));
        bbr.on_ack(now, Some(rate), true, &rtt);
        (bbr, rtt)
    }

    #[test]
    fn the_pacer_refills_exactly_rate_times_elapsed() {
        let cases = [
            (1_000_000_000, 1),
            (5_000_000_000, 20),
            (u64::MAX / 3, 7),
            (12_345_678, 999_999),
            (u64::MAX, u64::MAX / 2),
        ];
        for (rate, dt) in cases {
            let start = Instant::from_micros(10);
            let mut pacer = Pacer {
                tokens: 0,
                last: start,
            };
            pacer.refill(start + Duration::from_micros(dt), rate, CHUNK);
            let want = mul_div(rate, dt, 1_000_000).min(Pacer::capacity(rate, CHUNK));
            assert_eq!(pacer.tokens, want, "rate {rate} dt {dt}");
        }
    }

    #[test]
    fn a_fast_path_with_a_tiny_rtt_keeps_two_bursts_in_flight() {
        // Loopback: 1.5 GB/s, 20 µs. Twice the BDP is only 60 KB, less than one batch
        // of datagrams a host sends or acknowledges at once.
        let (bbr, rtt) = measured(1_500_000_000, Duration::from_micros(20));
        let bdp_part = bbr.compensate(mul_div(bbr.bdp(&rtt), bbr.gains().1, 1000));
        assert!(bdp_part < 200_000, "{bdp_part}");
        let burst = bbr.pacing_rate() / 1000;
        assert_eq!(bbr.cwnd(&rtt), bdp_part + 2 * burst);
    }

    #[test]
    fn a_slow_path_gets_only_a_small_allowance() {
        // 1 MB/s over 50 ms: the window stays near twice the BDP (100 KB) plus two
        // minimum bursts of 16 chunks.
        let (bbr, rtt) = measured(1_000_000, Duration::from_millis(50));
        let bdp_part = bbr.compensate(mul_div(bbr.bdp(&rtt), bbr.gains().1, 1000));
        assert_eq!(bbr.cwnd(&rtt), bdp_part + 2 * 16 * CHUNK);
        assert!(bbr.cwnd(&rtt) < 200_000);
    }

    #[test]
    fn the_window_never_drops_under_its_floor() {
        let (bbr, rtt) = measured(1, Duration::from_micros(1));
        assert!(bbr.cwnd(&rtt) >= MIN_CWND_CHUNKS * CHUNK);
    }
}

//! Round-trip time estimate and retransmission timeout (RFC 6298).

use crate::time::Duration;

/// Clock granularity `G` of RFC 6298: the least variance term and the least timeout.
const GRANULARITY: Duration = Duration::from_millis(1);

/// Retransmission timing knobs of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RtoConfig {
    /// Timeout before the first round-trip sample (RFC 6298 says 1 s; chat peers are
    /// usually near, so a shorter start keeps the first loss cheap).
    pub initial: Duration,
    /// Lower clamp of the timeout.
    pub min: Duration,
    /// Upper clamp of the timeout, also after exponential backoff.
    pub max: Duration,
}

impl Default for RtoConfig {
    fn default() -> Self {
        RtoConfig {
            initial: Duration::from_millis(500),
            min: Duration::from_millis(100),
            max: Duration::from_secs(2),
        }
    }
}

/// Smoothed round-trip time, its variation, and the backed-off retransmission timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RttEstimator {
    config: RtoConfig,
    srtt: Option<Duration>,
    rttvar: Duration,
    backoff: u32,
}

impl RttEstimator {
    /// No sample yet.
    pub const fn new(config: RtoConfig) -> Self {
        RttEstimator {
            config,
            srtt: None,
            rttvar: Duration::ZERO,
            backoff: 0,
        }
    }

    /// The smoothed round-trip time, once there is a sample.
    pub const fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Feeds one round-trip sample (only from packets sent once: Karn's rule) and ends
    /// any backoff.
    pub fn on_sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = Duration::from_micros(r.as_micros() / 2);
            }
            Some(srtt) => {
                let err = if srtt > r { srtt - r } else { r - srtt };
                self.rttvar =
                    Duration::from_micros((3 * self.rttvar.as_micros() + err.as_micros()) / 4);
                self.srtt = Some(Duration::from_micros(
                    (7 * srtt.as_micros() + r.as_micros()) / 8,
                ));
            }
        }
        self.backoff = 0;
    }

    /// New data was acknowledged: the path works, stop backing off.
    pub fn on_progress(&mut self) {
        self.backoff = 0;
    }

    /// The retransmission timer fired: double the timeout (up to the clamp).
    pub fn on_timeout(&mut self) {
        self.backoff = self.backoff.saturating_add(1).min(16);
    }

    /// The timeout to arm now: `SRTT + max(G, 4·RTTVAR)` (RFC 6298 §2, with a clock
    /// granularity `G` of 1 ms), clamped, times `2^backoff`, clamped again; never zero.
    pub fn rto(&self) -> Duration {
        let base = match self.srtt {
            None => self.config.initial,
            Some(srtt) => srtt + self.rttvar.saturating_mul(4).max(GRANULARITY),
        };
        let base = base.max(self.config.min).min(self.config.max);
        let rto = base
            .saturating_mul(1u64 << self.backoff)
            .min(self.config.max);
        rto.max(GRANULARITY)
    }
}

//! A bot on the Slack test server with the notification reader running on the demo's queue:
//! what the card tests share. Included with `#[path]` by the test files that use it (it needs
//! both `support` and `slack_server`).
// Each test binary uses part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use aws_chatops::audit::Auditor;
use aws_chatops::config::Config;
use aws_chatops::events::{self, notify::Notifier, queue::Queue};
use aws_chatops::metrics::Metrics;
use aws_chatops::pipeline::Pipeline;
use aws_chatops::transport::slack::{cards::SlackCards, SlackConnection, SlackOptions, SlackStats};

use crate::slack_server::SlackServer;
use crate::support::{pipeline, Emulator};

pub struct NotifiedBot {
    pub pipeline: Arc<Pipeline>,
    pub bot: SlackConnection,
    /// The notifier's metrics (cards posted, charts failed).
    pub metrics: Metrics,
    stop: tokio::sync::watch::Sender<()>,
    reader: tokio::task::JoinHandle<()>,
}

impl NotifiedBot {
    /// `config` (the demo's queue added to it) served over `connections` sockets of `slack`,
    /// its cards posted there; `extend` may add to the notifier (charts).
    pub async fn start(
        emu: &Emulator,
        slack: &SlackServer,
        mut config: Config,
        connections: u32,
        extend: impl FnOnce(Notifier<SlackCards>, &Arc<Config>, &Arc<Pipeline>) -> Notifier<SlackCards>,
    ) -> NotifiedBot {
        let queue_url = format!("{}/123456789012/aws-chatops-notifications", emu.url);
        config.notifications.queues = vec![queue_url.clone()];
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        let config = Arc::new(config);
        let pipeline = Arc::new(pipeline(emu, (*config).clone()).await);
        let options = SlackOptions {
            connections,
            shutdown_grace: Duration::from_secs(5),
            ..SlackOptions::default()
        };
        let bot = slack
            .connect_bot(pipeline.clone(), config.clone(), options)
            .await;
        let metrics = Metrics::new();
        let notifier = Notifier::new(
            config.clone(),
            bot.cards(),
            metrics.clone(),
            Arc::new(Auditor::new(&config).unwrap()),
        );
        let notifier = Arc::new(extend(notifier, &config, &pipeline));
        let queue = Queue::new(&emu.sdk_config().await, &queue_url).with_wait_seconds(1);
        let (stop, mut stopped) = tokio::sync::watch::channel(());
        let reader = tokio::spawn(events::serve(queue, notifier, async move {
            let _ = stopped.changed().await;
        }));
        NotifiedBot {
            pipeline,
            bot,
            metrics,
            stop,
            reader,
        }
    }

    /// Stops the reader, then the bot.
    pub async fn stop(self) -> SlackStats {
        drop(self.stop);
        self.reader.await.unwrap();
        self.bot.shutdown().await
    }
}

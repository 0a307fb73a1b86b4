//! The connection wizard's login, as the window sees it: start, open again, cancel, the callback
//! from the browser or the deep link, the tenant choice, and saving the connection.

use super::*;

impl AppCore {
    pub fn login_view(&self) -> LoginView {
        lock(&self.login).view.clone()
    }

    fn set_login(&self, generation: Option<u64>, view: LoginView) -> bool {
        let mut login = lock(&self.login);
        if generation.is_some_and(|g| g != login.generation) {
            return false;
        }
        login.view = view.clone();
        drop(login);
        self.ui.login_changed(&view);
        true
    }

    /// The redirect the login uses: the desktop preference, else deep link when a bounce page is
    /// available, else loopback.
    fn redirect_mode(&self, engine: &Engine) -> CommandResult<RedirectMode> {
        let xero = engine.settings().xero;
        let bounce = xero.effective_bounce_url();
        Ok(match lock(&self.desktop).effective_login_mode(bounce.is_some()) {
            RedirectKind::Deeplink => RedirectMode::DeepLink {
                bounce_url: bounce
                    .ok_or_else(|| CommandError::from(EngineError::from(ConnectError::NoBouncePage)))?,
            },
            RedirectKind::Loopback => RedirectMode::Loopback {
                ports: xero.loopback_ports,
            },
        })
    }

    pub fn login_mode(&self) -> RedirectKind {
        let bounce = self
            .backend()
            .engine
            .settings()
            .xero
            .effective_bounce_url()
            .is_some();
        lock(&self.desktop).effective_login_mode(bounce)
    }

    /// Starts a login, opens the browser on it, and waits for the answer in the background.
    /// Reauthorising is the same login: the engine recognises the practice when it is chosen.
    pub async fn start_login(self: &Arc<Self>) -> CommandResult<LoginView> {
        let backend = self.backend();
        let mode = self.redirect_mode(&backend.engine)?;
        let started = backend.engine.start_login(Some(mode)).await?;
        let generation = {
            let mut login = lock(&self.login);
            login.generation += 1;
            login.generation
        };
        let opened = self.ui.open_url(&started.authorize_url);
        if let Err(error) = &opened {
            // The page says so and offers the link to copy first, and "Open again".
            tracing::warn!(%error, "could not open the browser");
        }
        let view = LoginView::Waiting {
            authorize_url: started.authorize_url.clone(),
            browser_opened: opened.is_ok(),
        };
        self.set_login(Some(generation), view.clone());
        let core = self.clone();
        tokio::spawn(async move {
            let answer = backend.engine.wait_for_login().await;
            core.on_login_answer(generation, answer).await;
        });
        Ok(view)
    }

    pub fn open_login_again(&self) -> CommandResult<()> {
        let pending =
            self.backend().engine.pending_login().ok_or_else(|| {
                CommandError::new(ErrorKind::Login, "no Xero login is waiting; start again")
            })?;
        self.ui
            .open_url(&pending.authorize_url)
            .map_err(CommandError::internal)
    }

    pub fn cancel_login(&self) {
        self.backend().engine.cancel_login();
        let generation = {
            let mut login = lock(&self.login);
            login.generation += 1;
            login.generation
        };
        self.set_login(Some(generation), LoginView::Idle);
    }

    /// A deep link the OS handed to the app. Only a callback answering the pending login (its
    /// `state`) is taken; anything else is ignored and logged by the engine.
    pub fn deliver_callback(&self, url: &str) {
        match self.backend().engine.deliver_callback(url) {
            Ok(()) => tracing::info!("login callback accepted"),
            Err(reason) => tracing::warn!(%reason, "login callback ignored"),
        }
    }

    async fn on_login_answer(
        self: &Arc<Self>,
        generation: u64,
        answer: Result<hownow_sync::connect::AuthorizedLogin, EngineError>,
    ) {
        let view = match answer {
            Ok(login) if login.tenants.len() == 1 => {
                let tenant = login.tenants[0].tenant_id.clone();
                // The failure is shown by the wizard's state.
                let _ = self.choose_tenant_for(generation, &tenant).await;
                return;
            }
            Ok(login) => LoginView::ChooseTenant {
                tenants: login
                    .tenants
                    .into_iter()
                    .map(|t| TenantView {
                        id: t.tenant_id,
                        name: t.name,
                    })
                    .collect(),
            },
            Err(EngineError::Connect(ConnectError::NoPracticeManagerTenant { user })) => {
                LoginView::NoTenant {
                    user,
                    guidance: PRIVILEGE_GUIDANCE.to_string(),
                }
            }
            Err(EngineError::Connect(ConnectError::Cancelled)) => return,
            Err(e) => LoginView::Failed {
                message: CommandError::from(e).message,
            },
        };
        self.set_login(Some(generation), view);
    }

    /// The admin picked a practice in the tenant picker.
    pub async fn choose_tenant(self: &Arc<Self>, tenant_id: &str) -> CommandResult<LoginView> {
        let generation = lock(&self.login).generation;
        self.choose_tenant_for(generation, tenant_id).await?;
        Ok(self.login_view())
    }

    async fn choose_tenant_for(self: &Arc<Self>, generation: u64, tenant_id: &str) -> CommandResult<()> {
        self.set_login(Some(generation), LoginView::Connecting);
        let result = self.connect_tenant(generation, tenant_id).await;
        if let Err(e) = &result {
            self.set_login(
                Some(generation),
                LoginView::Failed {
                    message: e.message.clone(),
                },
            );
        }
        result
    }

    async fn connect_tenant(self: &Arc<Self>, generation: u64, tenant_id: &str) -> CommandResult<()> {
        let backend = self.backend();
        let connection = backend.engine.finish_login(Some(tenant_id)).await?;
        let engine = backend.engine.clone();
        let id = connection.id;
        let synced_before = blocking(move || {
            Ok(engine
                .history(id, 50)?
                .iter()
                .any(|r| r.outcome == RunOutcome::Ok))
        })
        .await?;
        if !synced_before {
            self.start_sync(id, RunKind::Full, RunTrigger::Initial, false)?;
        }
        // A reauthorised connection catches up by the schedule.
        self.schedule_changed.notify_one();
        self.ui.connections_changed();
        let view = self.connection(id).await?;
        self.set_login(
            Some(generation),
            LoginView::Connected {
                connection: Box::new(view),
            },
        );
        Ok(())
    }
}

//! Where the bytes of the files Baton serves live (agents' attachments, the copies
//! of customers' media), by their unguessable key.
//!
//! - SQLite, one process: files in the attachments folder (`BATON_ATTACHMENTS_DIR`),
//!   written beside and renamed, so a file is either whole or absent.
//! - PostgreSQL, where several replicas serve the database: in the database
//!   (`store::replicas::Blobs`), so every replica serves every file and no folder
//!   has to be shared. A file not found there is looked for in the folder, where a
//!   `migrate-data` that could not reach the old folder left it.

use std::path::{Path, PathBuf};

use crate::{Error, Result, Services};

fn in_database(services: &Services) -> bool {
    services.db.is_postgres()
}

fn path(services: &Services, key: &str) -> PathBuf {
    services.settings.attachments.dir.join(key)
}

/// Stores `bytes` under `key`.
pub async fn put(services: &Services, key: &str, bytes: &[u8]) -> Result<()> {
    if in_database(services) {
        let mut tx = services.store.autocommit().await?;
        let blobs = tx
            .blobs()
            .ok_or_else(|| Error::Internal("this database cannot hold files".into()))?;
        blobs.blob_put(key, bytes).await?;
        return Ok(());
    }
    write_file(
        &services.settings.attachments.dir,
        &path(services, key),
        bytes,
    )
    .await
}

/// The bytes stored under `key`, if any.
pub async fn get(services: &Services, key: &str) -> Result<Option<Vec<u8>>> {
    if in_database(services) {
        let mut tx = services.store.autocommit().await?;
        if let Some(blobs) = tx.blobs()
            && let Some(bytes) = blobs.blob_get(key).await?
        {
            return Ok(Some(bytes));
        }
    }
    match tokio::fs::read(path(services, key)).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Internal(format!("cannot read a stored file: {e}"))),
    }
}

/// Forgets the bytes under `key` (a refused attachment); a failure is logged.
pub async fn remove(services: &Services, key: &str) {
    let removed = if in_database(services) {
        async {
            let mut tx = services.store.autocommit().await?;
            if let Some(blobs) = tx.blobs() {
                blobs.blob_delete(key).await?;
            }
            Ok::<(), Error>(())
        }
        .await
    } else {
        tokio::fs::remove_file(path(services, key))
            .await
            .map_err(|e| Error::Internal(e.to_string()))
    };
    if let Err(e) = removed {
        tracing::warn!(error = ?e, "cannot remove a refused file");
    }
}

/// What a file being received is called until it is kept: `<key><UPLOAD>`.
const UPLOAD: &str = ".upload";

/// A file being received: its bytes go to a temporary file as they arrive, so no
/// upload sits whole in memory. Dropped before [`Partial::store`], the temporary
/// file is removed.
#[derive(Debug)]
pub struct Partial {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    size: usize,
}

impl Partial {
    pub async fn begin(services: &Services) -> Result<Self> {
        let dir = Self::dir(services);
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let path = dir.join(format!("{}{UPLOAD}", crate::ids::new_token()?));
        let file = tokio::fs::File::create(&path).await.map_err(io)?;
        Ok(Self {
            path,
            file: Some(file),
            size: 0,
        })
    }

    /// Where files are received: beside the stored ones on SQLite (then a rename
    /// keeps one), the system's temporary folder on PostgreSQL (which needs no
    /// folder of Baton's own: the file ends in the database).
    fn dir(services: &Services) -> PathBuf {
        if in_database(services) {
            std::env::temp_dir().join("baton-uploads")
        } else {
            services.settings.attachments.dir.clone()
        }
    }

    /// Removes what uploads cut short by a crash left behind: received files older
    /// than an hour (no upload takes that long; a younger one may be another
    /// replica's on this machine). A failure is logged.
    pub async fn sweep(services: &Services) {
        let dir = Self::dir(services);
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
            return;
        };
        let old = std::time::SystemTime::now()
            .checked_sub(std::time::Duration::from_secs(3600))
            .unwrap_or(std::time::UNIX_EPOCH);
        while let Ok(Some(entry)) = entries.next_entry().await {
            let ours = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(UPLOAD))
                .is_some_and(|key| key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()));
            let stale = match entry.metadata().await.and_then(|m| m.modified()) {
                Ok(at) => at < old,
                Err(_) => false,
            };
            if ours
                && stale
                && let Err(e) = tokio::fs::remove_file(entry.path()).await
            {
                tracing::warn!(error = %e, "cannot remove an unfinished upload");
            }
        }
    }

    /// Appends the next bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Internal("the upload is already finished".into()))?;
        file.write_all(bytes).await.map_err(io)?;
        self.size += bytes.len();
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Keeps the file under `key`: renamed into place in the folder, or copied into
    /// the database (one value there, so read back once, at the end).
    pub async fn store(mut self, services: &Services, key: &str) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        if let Some(mut file) = self.file.take() {
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
        }
        if in_database(services) {
            let bytes = tokio::fs::read(&self.path).await.map_err(io)?;
            return put(services, key, &bytes).await;
        }
        tokio::fs::rename(&self.path, path(services, key))
            .await
            .map_err(io)
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        // Stored (renamed away) or refused: either way nothing is left behind. A
        // small synchronous unlink, in no hot loop.
        let _ = std::fs::remove_file(&self.path);
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Internal(format!("cannot store a file: {e}"))
}

async fn write_file(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Internal(format!("cannot store a file: {e}"));
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    // Write beside, then rename: a file is either whole or absent.
    let partial = path.with_extension("partial");
    tokio::fs::write(&partial, bytes).await.map_err(io)?;
    tokio::fs::rename(&partial, path).await.map_err(io)
}

/// What [`import`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub copied: usize,
    /// Keys the database names whose file is not in the folder either.
    pub missing: Vec<String>,
}

/// Copies into PostgreSQL the files of `folder` (an installation's attachments folder,
/// moved from SQLite) that the database names and does not hold yet. Run again, it
/// copies only what is still missing.
pub async fn import(store: &dyn store::Store, folder: &Path) -> Result<Imported> {
    let missing = {
        let mut tx = store.read().await?;
        let blobs = tx
            .blobs()
            .ok_or_else(|| Error::Internal("this database cannot hold files".into()))?;
        blobs.blobs_missing().await?
    };
    let mut imported = Imported::default();
    for key in missing {
        // Keys are 64 hex digits; anything else names no file of ours.
        if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
            imported.missing.push(key);
            continue;
        }
        match tokio::fs::read(folder.join(&key)).await {
            Ok(bytes) => {
                let mut tx = store.autocommit().await?;
                let blobs = tx
                    .blobs()
                    .ok_or_else(|| Error::Internal("this database cannot hold files".into()))?;
                blobs.blob_put(&key, &bytes).await?;
                imported.copied += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => imported.missing.push(key),
            Err(e) => {
                return Err(Error::Internal(format!(
                    "cannot read {}: {e}",
                    folder.join(&key).display()
                )));
            }
        }
    }
    Ok(imported)
}

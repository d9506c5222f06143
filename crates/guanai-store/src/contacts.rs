//! Contact persons per area and level (联系人, 二(一)): city, county, township and village. A
//! change is a new row that replaces the current one for the same area and duty; phones are
//! sealed like every phone number. Every change is audited (`contact.set`, target
//! `AREA/CONTACT_ID`, the duty as reason; never the phone).

use guanai_rules::VillageCode;

use crate::access::CITY_CODE;
use crate::archive::{Archive, now_micros};
use crate::error::StoreError;
use crate::model::Actor;
use crate::on_db;
use crate::reads::{Hex, Read, Reads};

/// A contact person as shown on a family file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub area_code: String,
    pub area_name: String,
    pub level: String,
    pub name: String,
    pub duty: String,
    pub phone: Option<String>,
}

/// area_code, contact_id, name, duty, area level, sealed phone, area name.
pub(crate) type ContactRow = (String, String, String, String, String, Option<Hex>, String);

pub(crate) fn phone_aad(contact_id: &str) -> Vec<u8> {
    format!("contact:{contact_id}:phone").into_bytes()
}

impl Archive {
    /// Names the contact person of an area for a duty (e.g. 联系人), replacing the current one.
    pub async fn set_contact(
        &self,
        area_code: &str,
        name: &str,
        duty: &str,
        phone: Option<&str>,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::invalid("name", "a contact needs a name"));
        }
        let known: Option<String> = on_db!(self.db(), pool => {
            sqlx::query_scalar("SELECT code FROM area WHERE code = $1").bind(area_code).fetch_optional(pool).await?
        });
        if known.is_none() {
            return Err(StoreError::invalid(
                "area",
                format!("{area_code} is not a Linyi area code"),
            ));
        }
        let contact_id = format!("C{:032x}", rand::random::<u128>());
        let sealed = phone.map(|p| self.keys().encrypt(p.as_bytes(), &phone_aad(&contact_id)));
        let target = format!("{area_code}/{contact_id}");
        on_db!(self.db(), pool => {
            let mut tx = pool.begin_with(self.db().begin_write()).await?;
            let current: Option<String> = sqlx::query_scalar(
                "SELECT contact_id FROM area_contact c WHERE area_code = $1 AND duty = $2 AND retired = FALSE \
                 AND NOT EXISTS (SELECT 1 FROM area_contact n WHERE n.replaces = c.contact_id)",
            )
            .bind(area_code)
            .bind(duty)
            .fetch_optional(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO area_contact (contact_id, area_code, name, duty, phone, recorded_at, recorded_by, replaces, retired) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE)",
            )
            .bind(&contact_id)
            .bind(area_code)
            .bind(name.trim())
            .bind(duty)
            .bind(sealed)
            .bind(now_micros())
            .bind(&actor.name)
            .bind(current)
            .execute(&mut *tx)
            .await?;
            crate::audit::append_audit!(&mut *tx, actor, "contact.set", &target, duty);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The current contacts of one area (city, county, township or village), by duty.
    pub async fn contacts_of(&self, code: &str) -> Result<Vec<Contact>, StoreError> {
        self.contacts_from(contacts_read(code).rows(self.db()).await?)
    }

    /// The contacts a family of `village` turns to: the village's, its township's, its
    /// county's and the city's, in that order.
    pub async fn contacts_for(&self, village: VillageCode) -> Result<Vec<Contact>, StoreError> {
        let mut reads = Reads::default();
        let slots = contact_areas(village).map(|code| reads.add(contacts_read(&code)));
        let answers = reads.run(self.db()).await?;
        let mut out = Vec::new();
        for slot in slots {
            out.extend(self.contacts_from(answers.rows(slot)?)?);
        }
        Ok(out)
    }

    /// Contacts from their rows (phones opened).
    pub(crate) fn contacts_from(&self, rows: Vec<ContactRow>) -> Result<Vec<Contact>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for (area_code, contact_id, name, duty, level, phone, area_name) in rows {
            let phone = match phone {
                Some(sealed) => {
                    let plain = self.keys().decrypt(&sealed.0, &phone_aad(&contact_id))?;
                    Some(String::from_utf8_lossy(&plain).into_owned())
                }
                None => None,
            };
            out.push(Contact {
                area_code,
                area_name,
                level,
                name,
                duty,
                phone,
            });
        }
        Ok(out)
    }
}

/// The areas whose contacts a family of `village` turns to.
pub(crate) fn contact_areas(village: VillageCode) -> [String; 4] {
    [
        village.to_string(),
        village.town().to_string(),
        village.county().to_string(),
        CITY_CODE.to_owned(),
    ]
}

/// The current contacts of one area, by duty.
pub(crate) fn contacts_read(code: &str) -> Read {
    Read::new(
        "contacts",
        "c.area_code, c.contact_id, c.name, c.duty, a.level, hex(c.phone), a.name",
        "FROM area_contact c JOIN area a ON a.code = c.area_code WHERE c.area_code = $1 \
         AND c.retired = FALSE AND NOT EXISTS (SELECT 1 FROM area_contact n WHERE n.replaces = c.contact_id)",
    )
    .order("c.duty")
    .arg(code)
}

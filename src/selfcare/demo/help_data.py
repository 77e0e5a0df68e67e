"""The demo operator's FAQ (support.FaqEntry), in en, ru and fa. Staff edit it in the back office."""

# ruff: noqa: RUF001 - Cyrillic and Persian letters are the content here, not look-alikes.

from __future__ import annotations

# (question, answer), each a dict of language code → text, in the order they are shown.
FAQ: list[tuple[dict[str, str], dict[str, str]]] = [
    (
        {
            "en": "How do I top up my balance?",
            "ru": "Как пополнить баланс?",
            "fa": "چگونه حسابم را شارژ کنم؟",
        },
        {
            "en": (
                "Open Top up in your account and pay by card. The money is on your balance within"
                " a minute. You can save the card and switch on autopay, so the balance never "
                "runs out."
            ),
            "ru": (
                "Откройте «Пополнить» в личном кабинете и оплатите картой. Деньги поступят на "
                "баланс в течение минуты. Карту можно сохранить и включить автоплатёж, чтобы "
                "баланс не заканчивался."
            ),
            "fa": (
                "در پنل کاربری «شارژ» را باز کنید و با کارت پرداخت کنید. مبلغ ظرف یک دقیقه به "
                "حساب شما اضافه می‌شود. می‌توانید کارت را ذخیره و شارژ خودکار را فعال کنید تا "
                "اعتبارتان تمام نشود."
            ),
        },
    ),
    (
        {
            "en": "My balance is zero. Can I still make calls?",
            "ru": "На балансе ноль. Можно ли звонить?",
            "fa": "اعتبارم صفر است. آیا باز هم می‌توانم تماس بگیرم؟",
        },
        {
            "en": (
                "Take a promised payment: it is credited at once and repaid from your next top-"
                "up. Incoming calls work even when outgoing services are suspended."
            ),
            "ru": (
                "Возьмите обещанный платёж: он зачисляется сразу и погашается из следующего "
                "пополнения. Входящие звонки работают, даже когда исходящие услуги "
                "приостановлены."
            ),
            "fa": (
                "شارژ اضطراری بگیرید: فوراً به حساب شما اضافه می‌شود و از شارژ بعدی کسر می‌شود. "
                "حتی وقتی خدمات خروجی متوقف شده‌اند، تماس‌های ورودی کار می‌کنند."
            ),
        },
    ),
    (
        {
            "en": "I lost my phone. What should I do?",
            "ru": "Я потерял телефон. Что делать?",
            "fa": "گوشی‌ام را گم کرده‌ام. چه کار کنم؟",
        },
        {
            "en": (
                "Block your number in Profile, or call the help line. Nobody can use your SIM "
                "card while it is blocked, and no subscription fees are charged. Unblock it in "
                "the same place when you have your SIM back."
            ),
            "ru": (
                "Заблокируйте номер в разделе «Профиль» или позвоните в справочную службу. Пока "
                "номер заблокирован, SIM-картой никто не воспользуется, а абонентская плата не "
                "списывается. Разблокировать номер можно там же, когда SIM-карта снова у вас."
            ),
            "fa": (
                "خط خود را در بخش «نمایه» مسدود کنید یا با پشتیبانی تماس بگیرید. تا زمانی که خط "
                "مسدود است، کسی نمی‌تواند از سیم‌کارت شما استفاده کند و هزینه اشتراک کسر نمی‌شود."
                " وقتی سیم‌کارت دوباره در دست شماست، از همان‌جا آن را رفع مسدودی کنید."
            ),
        },
    ),
    (
        {
            "en": "How do I change my tariff?",
            "ru": "Как сменить тариф?",
            "fa": "چگونه تعرفه‌ام را عوض کنم؟",
        },
        {
            "en": (
                "Open Change tariff: you see the tariffs side by side and, before you confirm, "
                "what the change costs today and what happens to your remaining minutes and data."
            ),
            "ru": (
                "Откройте «Сменить тариф»: тарифы показаны рядом, и до подтверждения видно, "
                "сколько стоит смена сегодня и что будет с оставшимися минутами и трафиком."
            ),
            "fa": (
                "«تغییر تعرفه» را باز کنید: تعرفه‌ها کنار هم نمایش داده می‌شوند و پیش از تأیید "
                "می‌بینید تغییر امروز چه هزینه‌ای دارد و چه بر سر دقیقه‌ها و اینترنت باقی‌مانده "
                "می‌آید."
            ),
        },
    ),
    (
        {
            "en": "How do I stop unwanted calls?",
            "ru": "Как избавиться от нежелательных звонков?",
            "fa": "چگونه جلوی تماس‌های ناخواسته را بگیرم؟",
        },
        {
            "en": (
                "Connect the Black list service and add the numbers you do not want to hear from."
                " You can block a caller straight from your recent calls."
            ),
            "ru": (
                "Подключите услугу «Чёрный список» и добавьте номера, от которых не хотите "
                "получать звонки. Заблокировать абонента можно прямо из списка последних звонков."
            ),
            "fa": (
                "سرویس «لیست سیاه» را فعال کنید و شماره‌هایی را که نمی‌خواهید از آن‌ها تماس "
                "بگیرید اضافه کنید. می‌توانید تماس‌گیرنده را مستقیماً از فهرست تماس‌های اخیر "
                "مسدود کنید."
            ),
        },
    ),
]

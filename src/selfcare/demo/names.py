"""Name pools for the demo's people and companies (Russian, English and Persian speakers).

Each person is (name as written, Latin spelling for the e-mail address). Russian surnames take the
feminine form for women, as they do on real contracts.
"""

# ruff: noqa: RUF001 - Cyrillic and Persian letters are the content here, not look-alikes.

from __future__ import annotations

import random

RU_MALE = [
    ("Александр", "aleksandr"), ("Дмитрий", "dmitry"), ("Максим", "maksim"), ("Сергей", "sergey"),
    ("Андрей", "andrey"), ("Алексей", "aleksey"), ("Артём", "artem"), ("Илья", "ilya"),
    ("Кирилл", "kirill"), ("Михаил", "mikhail"), ("Никита", "nikita"), ("Иван", "ivan"),
    ("Роман", "roman"), ("Егор", "egor"), ("Павел", "pavel"), ("Владимир", "vladimir"),
]  # fmt: skip
RU_FEMALE = [
    ("Анна", "anna"), ("Мария", "maria"), ("Елена", "elena"), ("Ольга", "olga"),
    ("Наталья", "natalya"), ("Екатерина", "ekaterina"), ("Татьяна", "tatyana"), ("Ирина", "irina"),
    ("Светлана", "svetlana"), ("Дарья", "darya"), ("Юлия", "yulia"), ("Ксения", "ksenia"),
    ("Полина", "polina"), ("Алина", "alina"), ("Виктория", "viktoria"), ("Софья", "sofya"),
]  # fmt: skip
# (male form, female form, Latin)
RU_SURNAMES = [
    ("Иванов", "Иванова", "ivanov"),
    ("Смирнов", "Смирнова", "smirnov"),
    ("Кузнецов", "Кузнецова", "kuznetsov"),
    ("Попов", "Попова", "popov"),
    ("Васильев", "Васильева", "vasilyev"),
    ("Петров", "Петрова", "petrov"),
    ("Соколов", "Соколова", "sokolov"),
    ("Михайлов", "Михайлова", "mikhailov"),
    ("Новиков", "Новикова", "novikov"),
    ("Фёдоров", "Фёдорова", "fedorov"),
    ("Морозов", "Морозова", "morozov"),
    ("Волков", "Волкова", "volkov"),
    ("Алексеев", "Алексеева", "alekseev"),
    ("Лебедев", "Лебедева", "lebedev"),
    ("Семёнов", "Семёнова", "semenov"),
    ("Егоров", "Егорова", "egorov"),
    ("Павлов", "Павлова", "pavlov"),
    ("Козлов", "Козлова", "kozlov"),
    ("Степанов", "Степанова", "stepanov"),
    ("Николаев", "Николаева", "nikolaev"),
    ("Орлов", "Орлова", "orlov"),
    ("Андреев", "Андреева", "andreev"),
    ("Макаров", "Макарова", "makarov"),
    ("Никитин", "Никитина", "nikitin"),
    ("Захаров", "Захарова", "zakharov"),
    ("Зайцев", "Зайцева", "zaitsev"),
]

EN_FIRST = [
    "James", "Oliver", "William", "Henry", "Jack", "Thomas", "George", "Daniel", "Samuel", "David",
    "Emily", "Olivia", "Charlotte", "Amelia", "Grace", "Sophie", "Lucy", "Hannah", "Emma", "Chloe",
]  # fmt: skip
EN_SURNAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Clarke", "Hughes",
]  # fmt: skip

FA_FIRST = [
    ("علی", "ali"), ("محمد", "mohammad"), ("حسین", "hossein"), ("رضا", "reza"), ("مهدی", "mehdi"),
    ("امیر", "amir"), ("سعید", "saeed"), ("حمید", "hamid"), ("کاوه", "kaveh"), ("آرش", "arash"),
    ("زهرا", "zahra"), ("فاطمه", "fatemeh"), ("مریم", "maryam"), ("سارا", "sara"), ("نرگس", "narges"),
    ("شیرین", "shirin"), ("لیلا", "leila"), ("نیلوفر", "niloufar"), ("پریسا", "parisa"), ("مهسا", "mahsa"),
]  # fmt: skip
FA_SURNAMES = [
    ("احمدی", "ahmadi"), ("محمدی", "mohammadi"), ("حسینی", "hosseini"), ("رضایی", "rezaei"),
    ("کریمی", "karimi"), ("موسوی", "mousavi"), ("جعفری", "jafari"), ("رحیمی", "rahimi"),
    ("کاظمی", "kazemi"), ("صادقی", "sadeghi"), ("نوری", "nouri"), ("تهرانی", "tehrani"),
    ("شریفی", "sharifi"), ("قاسمی", "ghasemi"), ("اکبری", "akbari"), ("فراهانی", "farahani"),
]  # fmt: skip

EMAIL_DOMAINS = ["example.com", "example.net", "example.org", "mail.example"]


def person_name(rng: random.Random, language: str) -> tuple[str, str]:
    """A person's full name in their language and a Latin handle for their e-mail address."""
    if language == "ru":
        female = rng.random() < 0.5
        first, first_latin = rng.choice(RU_FEMALE if female else RU_MALE)
        male_surname, female_surname, surname_latin = rng.choice(RU_SURNAMES)
        surname = female_surname if female else male_surname
        return f"{first} {surname}", f"{first_latin}.{surname_latin}{'a' if female else ''}"
    if language == "fa":
        first, first_latin = rng.choice(FA_FIRST)
        surname, surname_latin = rng.choice(FA_SURNAMES)
        return f"{first} {surname}", f"{first_latin}.{surname_latin}"
    first = rng.choice(EN_FIRST)
    surname = rng.choice(EN_SURNAMES)
    return f"{first} {surname}", f"{first.lower()}.{surname.lower()}"
